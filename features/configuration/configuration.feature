@gate @configuration
Feature: Configuration management
  Guide §4: configuration is validated before deployment — schema, required values,
  types, ranges and dependencies; secrets only by reference; every new feature behind a
  killswitch flag and no flag past its cleanup date. Where the files live and which
  dependencies hold are the team's own (release.layout, policy.configuration).

  Background:
    Given the release under test

  Scenario: Every environment file validates
    Then every environment file beside this one validates

  Scenario: The service's configuration has its required values, types and ranges
    Then every service configuration validates against the release's schema

  Scenario: Dependencies between configuration values hold
    Then every configuration rule the environment declares holds

  Scenario: Secrets appear only as references
    Then no service configuration holds a literal secret

  Scenario: Every new feature has a killswitch
    Then every new feature in the release's changelog entry has a killswitch flag

  Scenario: No feature flag is past its cleanup date
    Then no feature flag is past its cleanup date
