@configuration @flags
Feature: Feature flags on the flag server
  Guide §4.2: new features ship behind flags, a killswitch disables a feature without
  redeployment, flag usage is tracked, stale flags are cleaned up and an A/B flag's
  variants share the requests as configured. Judged on what the
  flag server (flags: in the environment) and the release's pods show, not on flags.yaml.

  Background:
    Given the release under test

  Scenario: Every new feature has a flag on the flag server
    Then every new feature in the release's changelog entry has a flag on the flag server

  Scenario: No flag on the flag server is stale
    Then no feature flag on the flag server is stale

  Scenario: A/B variants split requests as configured
    Then every A/B flag on the flag server splits the release's requests as configured

  Scenario: Flag usage is tracked by the flag server
    Then the flag server shows every flag evaluated by the release's pods

  @destructive
  Scenario: Kill switches work without redeployment
    Then every kill switch on the flag server turns its feature off without redeployment
