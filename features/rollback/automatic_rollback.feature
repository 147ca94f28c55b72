@rollout @rollback @rehearsal @canary
Feature: Automatic rollback
  Guide §6.1 Automatic Rollback: the release is rolled back, without a human, as soon as
  any one of these triggers fires —
    Error Rate: >1% error rate
    Latency: p95 latency >2x baseline
    Health Check: failed health checks
    Disk Space: <10% free disk space
    Memory: OOM kills detected
  Each scenario carries exactly one fault, so each trigger is shown to act on its own.
  The release goes out as a canary (guide §2.2), so the baseline is the stable version
  over the same window; phase length and weights come from the environment file.
  Faults are the reference bot's knobs, so these are rehearsals (@rehearsal): they run only
  where the environment allows rehearsals (the sandbox), and are deselected elsewhere:
  FAULT_LATENCY_MS=80 about triples the bot's normal p95 (~40 ms), and the OOM case sets
  a 256Mi memory limit so the growth reaches it within a phase.

  @destructive
  Scenario Outline: <trigger> on its own rolls the release back
    Given steady trading traffic of 50 requests per second to the trading bot service
    When the release under test rolls out as a canary carrying <fault>
    Then the "<criterion>" rollback trigger fails
    And the canary is rolled back automatically
    And the previous revision is back, Ready and serving

    Examples:
      | trigger                      | fault                              | criterion               |
      | Error Rate >1%               | FAULT_ERROR_RATE=0.03              | error rate              |
      | Latency p95 >2x baseline     | FAULT_LATENCY_MS=80                | p95 latency vs baseline |
      | Health Check failed          | FAULT_CRASH_AT_START=true          | health checks           |
      | Disk Space <10% free         | FAULT_DISK_FREE_PERCENT=5          | free disk               |
      | Memory: OOM kills detected   | FAULT_MEMORY_GROWTH_MB_PER_S=300 with a memory limit of 256Mi | OOM kills |
