@gate @configuration
Feature: Workload specification
  Guide §7.2: the bot runs as 3 replicas updated by a rolling update that starts one extra
  pod and takes none away, every container with liveness and readiness probes on a port it
  serves, CPU and memory requests and limits, and a pinned image; §7.1: spread over
  availability zones; §7.3: no stickiness and time for the 30-second connection drain. The same rules as `goldgate check manifests`,
  with the numbers of the environment's policy (the guide's values by default).

  Background:
    Given the release under test

  Scenario: The release's manifests meet the guide's Kubernetes configuration
    Then every workload in the release's manifests meets the rules "liveness-probe, readiness-probe, probe-port, cpu-request, memory-request, cpu-limit, memory-limit, image-pinned, replicas, rolling-update, max-unavailable, max-surge, termination-grace, zone-spread, session-affinity"

  Scenario: The running Deployment meets the guide's Kubernetes configuration
    Then the bot's running Deployment meets the rules "liveness-probe, readiness-probe, probe-port, cpu-request, memory-request, cpu-limit, memory-limit, image-pinned, replicas, rolling-update, max-unavailable, max-surge, termination-grace, zone-spread"
