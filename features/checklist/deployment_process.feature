@gate @checklist
Feature: Deployment process: the image pushed and the release tagged
  Guide §5.1-5.3: the release image is built, tagged and pushed to the registry, the
  cluster runs what the registry holds under that tag, and the Git tag vX.Y.Z names the
  commit it was built from. Asked of the registry the environment names (release.registry,
  the OCI distribution API) and of the release's Git repository (release.repository);
  the running pods' digests come from the kubelet (status.containerStatuses[].imageID) and
  the built commit from the image's org.opencontainers.image.revision label. Read-only.

  Background:
    Given the release under test

  Scenario: The release image is in the registry at the digest the pods run
    Then the release image is in the registry under its tag at the digest the running pods run

  Scenario: The Git tag names the commit the running image was built from
    Then the release's Git tag points at the commit the running image was built from
