@gate @recovery
Feature: Disaster recovery drills
  Guide §9: the latest backup restores within the 15-minute RTO, the configuration can be
  recovered from Git (the running objects equal the manifests at the release tag, compared
  as kubectl diff does: only the fields the manifests set), and the secondary region's
  standby answers its health check.

  Background:
    Given the release under test

  Scenario: A restore of the latest backup finishes within the RTO
    Then restoring the latest backup into a scratch database takes less than the RTO

  Scenario: The running configuration can be recovered from Git
    Then the running manifests equal those at the release tag in Git

  @rollout @destructive @rehearsal
  Scenario: A live edit that Git does not hold fails configuration recovery
    Given a live edit sets LOG_LEVEL to "DEBUG" in the ConfigMap trading-bot-config, not in Git
    Then the configuration-from-Git check fails naming data.LOG_LEVEL

  @two_regions
  Scenario: The standby region is healthy
    Given the standby named in the environment
    Then the standby answers "/health" with 200
