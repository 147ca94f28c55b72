"""Feature-flag vocabulary (guide §4.2), read from the flag server the environment names
(``flags:``) and from the release's pods. Without a ``flags`` section these checks skip,
naming it; the flags-file checks of configuration.feature still judge what the team declared."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_bdd import then

from goldgate.config import Environment, FlagServer, SecretResolutionError, resolve_secret
from goldgate.criteria import flags as crit
from goldgate.criteria.measured import measure_and_judge
from goldgate.probes.artifacts import ArtifactUnavailable, changelog
from goldgate.probes.artifacts.locations import ReleaseInputs
from goldgate.probes.feature_pods import FeaturePods
from goldgate.probes.flag_variants import VariantCounts, VariantReadError, VariantWindow
from goldgate.probes.flags import FlagServerError, UnleashAdmin, read_usage
from goldgate.probes.kubernetes import KubernetesUnavailable
from goldgate.probes.metrics import KubernetesTargets, ScrapeSource
from goldgate.rollout.sources import PORT_MAP_ANNOTATION
from goldgate.rollout.traffic import NotLoopback, TrafficStream
from goldgate.safety import SafetyPolicy
from goldgate.verdict import Verdict, expect

UNAVAILABLE = (FlagServerError, SecretResolutionError, ArtifactUnavailable, KubernetesUnavailable, VariantReadError)


def _gate(criterion: str, measure: Callable[[], Any], judge: Callable[[Any], Verdict]) -> Verdict:
    return expect(measure_and_judge(criterion, measure, judge, UNAVAILABLE))


def _settings(environment: Environment) -> FlagServer:
    where = environment.source_file or environment.name
    if environment.flags is None:
        pytest.skip(f"{where}: no flags section: no feature-flag server to read")
    if not environment.flags.url:
        pytest.skip(f"{where}: flags.url is unset (the sandbox's Unleash is installed with "
                    "`goldgate sandbox flags --install`)")
    return environment.flags


@pytest.fixture(scope="session")
def flag_server(environment: Environment) -> Iterator[UnleashAdmin]:
    """The Unleash admin API of the environment's ``flags`` section."""
    conf = _settings(environment)
    if not conf.token:
        pytest.skip(f"{environment.source_file or environment.name}: flags.token is unset")
    try:
        token = resolve_secret(conf.token)
    except SecretResolutionError as exc:
        pytest.fail(f"ERROR: flags.token: {exc}", pytrace=False)
    t = environment.timeouts
    admin = UnleashAdmin(conf.url or "", token, project=conf.project, environment=conf.environment,
                         connect_timeout_s=t.connect_s, read_timeout_s=t.read_s, retries=t.retries,
                         backoff_s=t.backoff_s)
    yield admin


@pytest.fixture(scope="session")
def feature_pods(environment: Environment, kube: Any) -> FeaturePods:
    """Every release pod's feature gauge (read from the pod itself) and identity."""
    conf = _settings(environment)
    k = environment.kubernetes
    t = environment.timeouts
    discovery = KubernetesTargets(kube.core, namespace=k.namespace, timeout_s=kube.timeout,
                                  port_map_annotation=PORT_MAP_ANNOTATION)
    scrape = ScrapeSource(discovery, connect_timeout_s=t.connect_s, read_timeout_s=t.read_s, retries=1)
    return FeaturePods(scrape, kube.core, k.namespace, k.label_selector, conf.feature_metric, timeout=kube.timeout)


@then("every new feature in the release's changelog entry has a flag on the flag server")
def features_on_server(release: ReleaseInputs, environment: Environment, flag_server: UnleashAdmin) -> None:
    policy = release.policy.changelog
    path = release.in_project(release.layout.changelog)

    def measure() -> tuple[Any, Any]:
        log = changelog.read_changelog(path)
        entry = changelog.categorised(log, policy.sections, policy.breaking_marker).entry(environment.release.version)
        return entry, flag_server.flags()

    _gate("every new feature has a flag on the flag server", measure,
          lambda r: crit.features_on_server(r[0], r[1], str(path), flag_server.url))


@then("no feature flag on the flag server is stale")
def server_flags_not_stale(environment: Environment, flag_server: UnleashAdmin,
                           gate_clock: Callable[[], dt.datetime]) -> None:
    conf = _settings(environment)
    _gate("no feature flag on the flag server is stale", flag_server.flags,
          lambda fl: crit.server_flags_not_stale(fl, gate_clock(), conf.max_flag_age_days, flag_server.url))


@then("the flag server shows every flag evaluated by the release's pods")
def usage_tracked(environment: Environment, flag_server: UnleashAdmin, feature_pods: FeaturePods) -> None:
    conf = _settings(environment)

    def measure() -> tuple[Any, list[str], list[str]]:
        pods = sorted(feature_pods.identities())
        names = [f.name for f in flag_server.flags() if f.enabled is not None]
        usages, instances = read_usage(flag_server, names, conf.app_name, pods, wait_s=conf.usage_wait_s)
        return usages, instances, pods

    _gate("feature flag usage is tracked", measure,
          lambda r: crit.usage_tracked(r[0], r[1], r[2], conf.app_name, flag_server.url))


@then("every kill switch on the flag server turns its feature off without redeployment")
def kill_switches(environment: Environment, flag_server: UnleashAdmin, feature_pods: FeaturePods,
                  safety: SafetyPolicy) -> None:
    from goldgate.actions.flags import exercise_kill_switch

    conf = _settings(environment)
    if not safety.allow_mutations:
        pytest.skip("turning a kill switch off is a mutation: run with --allow-mutations")
    limit = conf.refresh_interval_s + conf.kill_switch_margin_s

    def measure() -> list[Any]:
        switches = [f.name for f in flag_server.flags() if f.killswitch and f.enabled]
        return [exercise_kill_switch(flag_server, safety, feature_pods, name, watch_s=limit + 1.0)
                for name in switches]

    _gate("kill switches work without redeployment", measure,
          lambda runs: crit.kill_switches_obeyed(runs, limit, flag_server.url))


@then("every A/B flag on the flag server splits the release's requests as configured")
def variant_splits(environment: Environment, flag_server: UnleashAdmin, feature_pods: FeaturePods,
                   bot_url: str) -> None:
    """The pods' per-variant counts over ``flags.variant_window_s``, against the server's weights.
    Where the bot is on loopback (no users), goldgate sends the window's signal requests itself."""
    conf = _settings(environment)
    t = environment.timeouts
    counter = VariantCounts(feature_pods.scrape, feature_pods.namespace, feature_pods.label_selector,
                            conf.variant_metric)

    def measure() -> tuple[list[VariantWindow], dict[str, dict[str, int]]]:
        ab = [f for f in flag_server.flags() if f.enabled]
        weights = {f.name: {v.name: v.weight for v in flag_server.flag(f.name).variants} for f in ab}
        weights = {name: split for name, split in weights.items() if len(split) >= 2}
        if not weights:
            return [], {}
        stream = None
        if conf.variant_traffic_rps > 0:
            try:
                stream = TrafficStream(bot_url, rate_rps=conf.variant_traffic_rps,
                                       max_duration_s=conf.variant_window_s + 2.0, timeout=(t.connect_s, t.read_s))
            except NotLoopback:
                stream = None  # a real cluster is judged on its users' requests
        if stream is None:
            return counter.over_window(sorted(weights), conf.variant_window_s), weights
        with stream:
            return counter.over_window(sorted(weights), conf.variant_window_s), weights

    _gate("A/B variants split requests as configured", measure,
          lambda r: crit.variant_splits_match(r[0], r[1], conf.variant_confidence, conf.min_variant_samples,
                                              flag_server.url))
