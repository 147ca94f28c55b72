@recovery
Feature: Rehearsals of the recovery checks
  Each recovery check is shown to fail on the fault it exists for: an archiver whose
  command fails while archive_mode still reads on, a backup that lost a table's rows, a
  restore too slow for the RTO, a live configuration edit that Git does not hold. They run
  where the environment allows rehearsals (the sandbox), never against production.

  @rehearsal @destructive @two_regions
  Scenario: An archive command that fails is caught by the point-in-time recovery check
    When the order database's archive command fails
    Then the WAL archiving check fails

  @rehearsal @two_regions
  Scenario: A backup whose row counts differ from its source is caught
    When a backup of the order database is taken with the orders table's rows left out
    Then the restore check fails naming the table and its counts

  @rehearsal @two_regions
  Scenario: A restore slower than the RTO is caught
    Then the restore-rate check fails against an RTO of 1 seconds

  # Guide §9.2: the configuration-from-Git check (recovery.feature) on a live edit Git does not hold.
  @rollout @destructive @rehearsal
  Scenario: A live edit that Git does not hold fails configuration recovery
    Given the release under test
    And a live edit sets LOG_LEVEL to "DEBUG" in the ConfigMap trading-bot-config, not in Git
    Then the configuration-from-Git check fails naming data.LOG_LEVEL
