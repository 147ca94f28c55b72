@gate @checklist
Feature: Code readiness
  Guide §1.1: before a release may deploy, its CI artifacts show every test passing,
  coverage above 85 %, a clean security scan, no hardcoded credentials and every
  dependency pinned. The evidence is the release's real JUnit, Cobertura and SARIF
  reports and its source tree.

  Background:
    Given the release under test

  Scenario: All tests pass
    Then the release's JUnit report shows every test passed

  Scenario: Code coverage is above 85 %
    Then the release's coverage report shows line coverage above 85 %

  Scenario: The security scan has no critical or high finding
    Then the release's SARIF reports have no finding of severity high or worse

  Scenario: No hardcoded credentials or secrets
    Then detect-secrets finds no secret in the source tree beyond the release's baseline

  Scenario: All dependencies are pinned to exact versions
    Then every dependency in the release's lock files is pinned to an exact version
