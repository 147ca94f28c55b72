@monitoring
Feature: Monitoring the running release against the rollback criteria
  Guide §5.2 step 5 "Monitor deployment (2+ hours)" and §8.1 Deployment Monitoring:
  error rate (alert if >1% errors), latency (alert if p95 latency > 500ms), pod health;
  with the §6.1 triggers (failed health checks, <10% free disk, OOM kills) evaluated
  every strategy.evaluation_interval_s over strategy.monitoring_window_s. Read-only: the
  same evaluation `goldgate watch` runs, without rolling anything back.

  Scenario: The running release stays within every rollback criterion over the monitoring window
    Given steady trading traffic of 50 requests per second to the trading bot service
    When the running release is watched for the monitoring window
    Then the error rate criterion held over the window
    And the p95 latency budget criterion held over the window
    And the health checks criterion held over the window
    And the OOM kills criterion held over the window
    And the free disk criterion held over the window
