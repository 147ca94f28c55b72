@gate @checklist
Feature: Infrastructure readiness
  Guide §1.2: staging matches production, services are up, migrations prepared, backups
  verified, monitoring and alerting in place, certificates valid and the firewall closed.
  The backup and point-in-time-recovery scenarios read the order database (in the sandbox
  the primary region's PostgreSQL, hence @two_regions) and its backup job's records.

  Background:
    Given the release under test

  Scenario: Staging matches production
    Then the bot's Deployment matches the production reference spec

  Scenario: All services are provisioned and available
    Then every Service in the namespace has ready endpoints

  Scenario: The bot's pods are Ready and do not restart
    Then every pod of the bot is Ready, with no more restarts than the environment tolerates

  Scenario: Database migrations are prepared
    Then the release's declared migration is the single migration head

  @two_regions
  Scenario: The latest backup is within the recovery point objective
    Then the latest backup is younger than the recovery point objective

  @two_regions
  Scenario: The latest backup is verified by a restore
    Then the latest backup restores into a scratch database with the recorded row counts

  @two_regions
  Scenario: Point-in-time recovery is enabled
    Then point-in-time recovery is enabled with the environment's retention

  Scenario: Monitoring is configured
    Then the bot's Prometheus targets are up

  Scenario: Alerting rules are tested
    Then promtool tests every alert rule of the release and they pass

  Scenario: TLS certificates are valid
    Then the TLS certificate of the environment's endpoint is valid for the minimum number of days

  Scenario: Firewall rules select the bot's pods
    Then a NetworkPolicy selects the bot's pods

  Scenario: Only the allowed ports listen on the hosts
    Then only the allowed ports listen on every host of the environment
