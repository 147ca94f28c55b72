@gate @documentation
Feature: Release documentation
  Guide §10.2 and §1.1: the CHANGELOG has an entry for the version being deployed, with
  semantic versioning and its sections, and the release notes are prepared. Keep a
  Changelog's Added / Fixed / Removed… count as the guide's Features / Fixes / Breaking
  Changes (policy.changelog); where the files live is release.layout.

  Background:
    Given the release under test

  Scenario: The CHANGELOG has an entry for the release
    Then the changelog has an entry for the release version with the sections the environment requires

  Scenario: Release notes are prepared
    Then the release notes describe the release version
