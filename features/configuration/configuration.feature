@gate @configuration
Feature: Configuration management
  Guide §4: configuration is validated before deployment — schema, required values,
  types, ranges and dependencies; secrets only by reference; every new feature behind a
  killswitch flag and no flag past its cleanup date.

  Background:
    Given the release under test

  Scenario: Every environment file validates
    Then every environment file in "environments" validates

  Scenario: The bot's configuration has its required values, types and ranges
    Then every bot configuration in "config" validates against "config/schema.json"

  Scenario: Dependencies between configuration values hold
    Then in every bot configuration in "config" "risk.max_daily_loss" is below "risk.max_drawdown"
    And in every bot configuration in "config" "risk.risk_per_trade" is below "risk.max_daily_loss"
    And in every bot configuration in "config" "database.pool_min" is at most "database.pool_max"

  Scenario: Secrets appear only as references
    Then no bot configuration in "config" holds a literal secret

  Scenario: Every new feature has a killswitch
    Then every feature in the release's "CHANGELOG.md" entry has a killswitch flag in "config/flags.yaml"

  Scenario: No feature flag is past its cleanup date
    Then no flag in "config/flags.yaml" is past its cleanup date
