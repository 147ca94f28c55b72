@gate @documentation
Feature: Release documentation
  Guide §10.2 and §1.1: the CHANGELOG has an entry for the version being deployed, with
  semantic versioning and its sections, and the release notes are prepared.

  Background:
    Given the release under test

  Scenario: The CHANGELOG has an entry for the release
    Then "CHANGELOG.md" has an entry for the release version with sections Features, Fixes, Breaking Changes, Migration Guide

  Scenario: Release notes are prepared
    Then "RELEASE_NOTES.md" describes the release version
