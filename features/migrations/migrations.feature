@gate @migrations
Feature: Zero-downtime database migrations
  Guide §3.1 and §3.2: migrations are versioned, reversible, backward compatible (expand
  then contract) and descriptively named; they are exercised for real on a scratch
  database before production sees them, and goldgate proves they ran there.

  Background:
    Given the release under test
    And the release's migrations on a scratch database

  Scenario: The migration history has a single head
    Then the migrations have a single head

  Scenario: Every migration upgrades from base to heads on scratch
    Then every migration upgrades one at a time from base to heads on the scratch database

  Scenario: Every migration is reversible
    Then every migration's downgrade restores the schema its upgrade started from

  Scenario: The previous release still works on the migrated schema
    Then the previous release's queries still run after upgrading to head

  Scenario: Migration names are descriptive
    Then every migration name has at least 3 meaningful words

  Scenario: The migrated schema matches the release's models
    Then the schema at heads matches the models the environment names
