@rollout @strategies @rolling_update
Feature: Rolling update
  Guide §2.3 Rolling Update:
    Pod-by-Pod: update one pod at a time
    Availability: always maintain quorum
    Health Checks: verify each pod health
    Rollback: automatic if health check fails
    Duration: 30-60 minutes for full deployment (strategy.rollout_timeout_s)
  The Deployment's own RollingUpdate (maxSurge 1, maxUnavailable 0, guide §7.2) does the
  rolling; the suite watches every step and runs `kubectl rollout undo` (guide §6.2) when
  a new pod fails its health checks or the rollout stops making progress.

  @destructive
  Scenario: A healthy release rolls out pod by pod without losing quorum
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the release under test rolls out as a rolling update
    Then availability never dropped below the quorum of replicas minus maxUnavailable
    And every new pod passed readiness before an old pod went
    And the release is kept after the monitoring window
    And the trading bot runs the release under test on every replica

  @destructive @rehearsal
  Scenario: A release whose pods fail their health checks is rolled back with rollout undo
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the faulty build "crash" of the release rolls out as a rolling update
    Then the "health checks" rollback trigger fails
    And availability never dropped below the quorum of replicas minus maxUnavailable
    And the deployment is rolled back with rollout undo
    And the previous revision is back, Ready and serving

  @destructive @rehearsal
  Scenario: A stalled rollout is rolled back once its progress deadline passes
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    And the Deployment gives up on a rollout that makes no progress for 6 seconds
    When the faulty build "broken" of the release rolls out as a rolling update
    Then the "rollout progress" rollback trigger fails
    And availability never dropped below the quorum of replicas minus maxUnavailable
    And the deployment is rolled back with rollout undo
    And the previous revision is back, Ready and serving
