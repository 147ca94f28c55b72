@monitoring @smoke
Feature: Service health after a deployment
  Guide §8.1 Deployment monitoring: pod health, service status, and the running version
  are checked right after every deploy (§5.2 step 4, §5.3 step 1).

  Scenario: The trading bot answers its liveness check
    Given the trading bot service of the environment
    When I request "/health"
    Then the answer is 200 within 500 ms

  Scenario: The trading bot is ready to trade
    Given the trading bot service of the environment
    When I request "/ready"
    Then the answer is 200 within the smoke latency budget

  Scenario: The running version is the release under test
    Given the trading bot service of the environment
    When I request "/version"
    Then the reported version is the release version

  Scenario: A XAUUSD signal comes back within the latency budget
    Given the trading bot service of the environment
    When I request "/api/v1/signal?symbol=XAUUSD"
    Then the answer is 200 within the smoke latency budget
