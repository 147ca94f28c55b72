@monitoring @two_regions
Feature: Database metrics within their targets
  Guide §8.3 System Metrics "Database: query latency, connection count", read from the
  order database's own statistics views while the bots trade: the mean execution time
  per statement over a window (pg_stat_statements, counters read at both ends of the
  window) against thresholds.db_query_latency_ms, and the client connections
  (pg_stat_activity) against thresholds.db_connections_ratio of max_connections.
  Read-only.

  Scenario: Database query latency stays below its limit
    Then the order database's mean query latency over 5 seconds is below the environment's limit

  Scenario: Database connections stay below their share of max_connections
    Then the order database's client connections stay below the environment's share of max_connections

  @rehearsal
  Scenario: Statements slower than the limit fail the latency check
    Then the database latency check fails against a limit of 0.000001 ms over 5 seconds
