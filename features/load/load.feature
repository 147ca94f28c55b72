@load
Feature: Latency and error rate under load
  Guide §5.2 step 5 (load tests before production), §6.1 (automatic rollback when the error
  rate exceeds 1 % or the p95 latency exceeds 2x the baseline) and §8.1 (alert when the p95
  latency exceeds 500 ms), held while locust drives the trading bot's traffic mix: XAUUSD
  signals, paper orders, health and readiness polls, weighted as the environment file says.

  A constant arrival rate keeps sending while the bot stalls, so latency is measured from
  when each request should have gone out; too few requests or a saturated load generator
  make a scenario inconclusive, never green.

  Scenario: p95 latency stays below 500 ms at a constant arrival rate
    Given 40 requests per second for 10 seconds
    When the load runs against the release
    Then the p95 latency is below 500 ms

  Scenario: The error rate stays below 1 % at a constant arrival rate
    Given 40 requests per second for 10 seconds
    When the load runs against the release
    Then the error rate is below 1 %

  Scenario: Traders waiting for every answer see the same limits
    Given 10 users with think time for 8 seconds
    When the load runs against the release
    Then the p95 latency is below 500 ms
    And the error rate is below 1 %

  Scenario: The release is at most 2 times slower than the stable version under the same load
    Given 40 requests per second for 8 seconds
    When the same load runs against the release and the stable version
    Then the p95 latency is at most 2 times the baseline
