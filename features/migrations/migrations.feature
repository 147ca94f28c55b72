@gate @migrations
Feature: Zero-downtime database migrations
  Guide §3.1 and §3.2: migrations are versioned, reversible, backward compatible (expand
  then contract) and descriptively named; they are exercised for real on a scratch
  database before production sees them.

  Background:
    Given the release under test
    And the release's migrations on a scratch database

  Scenario: The migration history has a single head
    Then the migrations have a single head

  Scenario: Every migration is reversible
    Then every migration has a downgrade

  Scenario: Upgrade, downgrade and upgrade again round-trip cleanly
    Then upgrade to head, downgrade to base and upgrade to head again leave the same schema

  Scenario: The previous release still works on the migrated schema
    Then the previous release's queries in "migrations/smoke" still run after upgrading to head

  Scenario: Migration names are descriptive
    Then every migration name has at least 3 meaningful words

  Scenario: The migrated schema is the one the bot expects
    Then the schema at head matches the orders table the bot defines
