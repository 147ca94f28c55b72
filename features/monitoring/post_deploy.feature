@monitoring
Feature: After the deployment: the error rate and the post-migration watch
  Guide §5.3 Post-Deployment "error rate should be < 0.1 %" and §3.2 Migration Strategy
  "Phase 3: monitor for 1+ hour". At 0.1 % a clean window proves nothing until it holds
  thousands of requests: the error rate passes only when its exact (Clopper-Pearson)
  upper confidence bound is below thresholds.post_deploy_error_rate, and says how many
  requests are still needed otherwise. Requests are counted for at least the post-deploy
  window and until the sample size planned before the first look (2,995 at 0.1 % and 95 %)
  has arrived, up to strategy.rollout_timeout_s longer. After a migration the release is watched for
  strategy.migration_monitor_s on the error-rate and latency triggers; a watch shorter
  than that window is INCONCLUSIVE, never a pass. The migration is read from the database
  the release runs on (database.url: alembic_version and its commit time): it must be the
  release's declared head (release.yaml database.migration_head), else FAIL naming both
  revisions, and the whole window must lie after it committed (read again at the end of the
  watch), else INCONCLUSIVE. In the sandbox the deploy pipeline's alembic upgrade head
  migrates the primary region's PostgreSQL, hence @two_regions. Read-only.

  Scenario: The post-deploy error rate is below 0.1 % with 95 % confidence
    Given trading traffic of 300 requests per second from 16 concurrent clients
    When the release's requests are counted over the post-deploy window, planned for a 95 % bound
    Then the post-deploy error rate is below the environment's limit with 95 % confidence

  @two_regions
  Scenario: After a migration the release is watched for the whole post-migration window
    Given the release's migration is applied to the database it runs on
    And steady trading traffic of 50 requests per second to the trading bot service
    When the running release is watched for the post-migration monitoring window
    Then the error-rate and latency triggers held over the whole post-migration window

  Scenario: A watch shorter than the post-migration window is not a pass
    Given steady trading traffic of 50 requests per second to the trading bot service
    When the running release is watched for only 3 seconds after the migration
    Then the post-migration check is INCONCLUSIVE, not PASS

  @rollout @destructive @rehearsal
  Scenario: A release that fails 3 % of its requests fails the post-deploy error rate
    Given the running release carries FAULT_ERROR_RATE=0.03
    And trading traffic of 300 requests per second from 16 concurrent clients
    When the release's requests are counted over the post-deploy window, planned for a 95 % bound
    Then the post-deploy error rate check at 95 % confidence fails
