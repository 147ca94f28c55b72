@rollout @strategies @canary
Feature: Canary deployment
  Guide §2.2 Canary Deployment:
    Phase 1: route 10% traffic to new version
    Phase 2: monitor metrics for 30 minutes
    Phase 3: route 50% traffic if no issues
    Phase 4: monitor metrics for 30 minutes
    Phase 5: route 100% traffic if no issues
    Rollback: automatic if error rate >1%
  Weights (strategy.canary_weights) and the phase length (strategy.canary_phase_s) come
  from the environment. Traffic is split by replica ratio behind the one Service, so the
  real share of each phase is reported next to its nominal weight. A phase is promoted
  only on PASS of every rollback trigger; an INCONCLUSIVE phase is held until its
  deadline (strategy.canary_phase_deadline_s) and then rolled back, never promoted.

  @destructive
  Scenario: A healthy canary is promoted phase by phase
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the release under test rolls out as a canary
    Then every canary phase passed every rollback trigger
    And the canary is promoted
    And the trading bot runs the release under test on every replica

  @destructive @rehearsal
  Scenario: A canary with an error rate above 1 % is rolled back automatically
    Given steady trading traffic of 50 requests per second to the trading bot service
    When the faulty build "errors" of the release rolls out as a canary
    Then the "error rate" rollback trigger fails
    And the canary is rolled back automatically
    And the previous revision is back, Ready and serving

  @destructive @rehearsal
  Scenario: A canary that receives no traffic is never promoted
    Given no trading traffic reaches the trading bot service
    When the release under test rolls out as a canary
    Then the canary phase ends INCONCLUSIVE, not PASS
    And the canary is rolled back automatically
    And the previous revision is back, Ready and serving
