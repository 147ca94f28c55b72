@monitoring
Feature: System metrics within their targets
  Guide §8.3 System Metrics: CPU utilisation below 70 % and memory usage below 80 %,
  each of the pod's limit, as the metrics API (kubectl top) reports it under trading
  traffic. The targets are thresholds.cpu_utilization and thresholds.memory_utilization
  of the environment (the guide's values by default). Network I/O has no number in the
  guide, only a baseline: the bytes the release's pods move (received + sent, the kubelet's
  per-pod counters in its Summary API) per request they serve, within
  thresholds.network_io_factor of the team's thresholds.network_bytes_per_request, both
  ways. Read-only, except the rehearsals, which give the reference bot a memory limit just
  above what it uses, or make it pad every answer.

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

  Scenario: Network I/O per request stays near its baseline
    Given steady trading traffic of 50 requests per second to the trading bot service
    When the trading bot pods' network I/O and served requests are measured over 8 seconds
    Then the network I/O per request is within the environment's factor of its baseline

  @rollout @destructive @rehearsal
  Scenario: A release that pads every answer leaves its network I/O baseline
    Given the running release carries FAULT_RESPONSE_PADDING_BYTES=20000
    And steady trading traffic of 50 requests per second to the trading bot service
    When the trading bot pods' network I/O and served requests are measured over 8 seconds
    Then the network I/O check fails
