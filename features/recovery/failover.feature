@recovery
Feature: Region failover drills
  Guide §9.3: the primary region is active and the secondary is a hot standby; failover
  is automatic, failback is manual, and failover is drilled every quarter. §9.1 sets the
  objectives the drill measures: a 15-minute RTO and at most 1 hour of data lost (RPO).

  The drill writes paper orders through the global endpoint, fails the primary region
  (its bot scaled to zero), and measures what a client sees: the time until orders are
  acknowledged again, served by the secondary, and the acknowledged orders the secondary
  no longer has. It then brings the primary back, checks that traffic stays on the
  secondary, and restores the primary by the manual failback runbook. The result is
  recorded as an action in the audit trail, where the quarterly check reads it.

  @destructive @two_regions
  Scenario: The primary region fails over to the hot standby and is failed back by hand
    Given the two regions named in the environment
    And paper orders written through the global endpoint for 4 seconds
    When the primary region fails
    Then the global endpoint serves orders from the secondary region within the RTO
    And no more acknowledged orders are lost than the RPO allows
    When the primary region returns
    Then the global endpoint does not fail back by itself
    When the primary region is restored by the manual failback runbook
    Then the global endpoint serves orders from the primary region again

  @destructive @rehearsal @two_regions
  Scenario: A standby that lags loses acknowledged orders beyond the RPO
    Given the two regions named in the environment
    And replication to the standby region's database is paused
    And paper orders written through the global endpoint for 4 seconds
    When the primary region fails
    Then the global endpoint serves orders from the secondary region within the RTO
    And the data-loss check fails against an RPO of 1 seconds

  # Last, so that a run which drills first finds that drill: the check reads the audit
  # trail and what this run recorded before it.
  @gate
  Scenario: A failover drill passed within the last quarter
    Then the audit trail holds a passed failover drill within the environment's maximum drill age
