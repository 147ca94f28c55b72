@rollout @strategies @blue_green
Feature: Blue-green deployment
  Guide §2.1 Blue-Green Deployment — Blue: current production (active); Green: new
  release (standby). Process:
    1. Deploy to green environment
    2. Run smoke tests on green
    3. Route traffic to green
    4. Monitor green (2+ hours: strategy.monitoring_window_s)
    5. Blue becomes backup
    6. Automatic rollback to blue if issues (any §6.1 trigger)
  Green is a second Deployment beside blue; smoke tests reach it through its own preview
  Service; routing is a switch of the production Service's selector.

  @destructive
  Scenario: A healthy green takes the traffic while blue stays a ready backup
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the release under test rolls out as a blue-green deployment
    Then the smoke tests passed against green only
    And blue stayed Ready as a backup while green was monitored
    And green is promoted
    And the trading bot runs the release under test on every replica

  @destructive @rehearsal
  Scenario: Traffic switches back to blue automatically when green breaches a rollback trigger
    Given steady trading traffic of 50 requests per second to the trading bot service
    And production runs the previous release
    When the release under test rolls out as a blue-green deployment carrying FAULT_LATENCY_MS=80
    Then the smoke tests passed against green only
    And the "p95 latency vs baseline" rollback trigger fails
    And traffic is switched back to blue automatically
    And the previous revision is back, Ready and serving
