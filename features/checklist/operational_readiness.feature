@gate @checklist
Feature: Operational readiness
  Guide §1.3 and §11.2: runbooks prepared, on-call assigned, the change approved by two
  people other than its author, inside its deployment window, and no other rollout
  running in the namespace.

  Background:
    Given the release under test

  Scenario: Runbooks are prepared with their required sections
    Then the runbooks cover the guide's five subjects with the headings the environment declares

  Scenario: The on-call team is assigned
    Then the release manifest names a primary and a secondary on-call

  Scenario: The change is approved by two reviewers other than the author
    Then the release manifest has at least 2 approvals by people other than the author

  Scenario: The release manifest is for the version under test
    Then the release manifest is for the version under test

  Scenario: The change is tracked by a change ticket
    Then the release manifest names a change ticket of the environment's form

  Scenario: The deployment window is open
    Then now is inside the release's deployment window

  Scenario: No other deployment is in progress
    Then no Deployment in the namespace has a rollout in progress
