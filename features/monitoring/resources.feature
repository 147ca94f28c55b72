@monitoring
Feature: System metrics within their targets
  Guide §8.3 System Metrics: CPU utilisation below 70 % and memory usage below 80 %,
  each of the pod's limit, as the metrics API (kubectl top) reports it under trading
  traffic. The targets are thresholds.cpu_utilization and thresholds.memory_utilization
  of the environment (the guide's values by default). Read-only, except the rehearsal,
  which gives the reference bot a memory limit just above what it uses.

  Scenario: CPU utilisation stays below its target
    Given steady trading traffic of 50 requests per second to the trading bot service
    Then every trading bot pod uses less CPU than the environment's target share of its limit

  Scenario: Memory usage stays below its target
    Given steady trading traffic of 50 requests per second to the trading bot service
    Then every trading bot pod uses less memory than the environment's target share of its limit

  @rollout @destructive @rehearsal
  Scenario: A pod close to its memory limit fails the memory target
    Given the running release has a memory limit 20 % above what its pods use now
    And steady trading traffic of 20 requests per second to the trading bot service
    Then the memory target check fails
