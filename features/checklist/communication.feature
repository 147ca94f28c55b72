@gate @checklist
Feature: Communication and rollback readiness
  Guide §1.3 operational readiness: "communication channels ready", "stakeholders
  notified", "team availability confirmed" and "rollback procedure tested", each decided
  on a record that could be false: the channel URL answers, a notification is dated
  before the deployment window, confirmed on-call shifts cover the window, and goldgate's
  own audit trail holds a rollback rehearsal no older than the guide's §6.3 monthly cadence.
  A rehearsal is a rollback goldgate really did outside production: a completed
  `rollout undo` in an earlier run's audit record (the release manifest's
  rollback_rehearsal_log, else --audit-log) or among this run's own actions. That check runs
  after every other selected check (@after_rollbacks), so a run that rehearses its rollbacks
  counts them even on a fresh trail.

  Background:
    Given the release under test

  Scenario: The communication channel is ready
    Then the release's communication channel answers

  Scenario: Stakeholders are notified before the deployment window
    Then the release manifest records a notification to "stakeholders" sent before the deployment window

  Scenario: Team availability is confirmed for the whole deployment window
    Then confirmed on-call shifts cover the whole deployment window

  @after_rollbacks
  Scenario: The rollback procedure was tested within the last month
    Then the audit trail records a rollback rehearsal within the last 30 days
