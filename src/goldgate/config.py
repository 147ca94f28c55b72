"""Environment files: what a run targets and which numbers it holds the release to.

``pytest --env=NAME`` reads ``environments/NAME.yaml`` through the pydantic schema below.
The guide's thresholds are the defaults, so an environment file only states what differs
from the guide (local.yaml scales the durations to seconds; production.yaml keeps them).

A bad file must stop the run before any test with one message naming the file, the field
path and the reason: :func:`load_environment` raises :class:`EnvironmentFileError` with
exactly that text, and the pytest plugin turns it into a usage error (exit status 4).

Secrets never live in environment files: every secret-bearing field is a
:class:`SecretRef` (``env:VAR``, ``file:PATH``, ``vault:PATH#KEY``, ``aws-sm:ID#KEY``,
``k8s:NS/NAME#KEY``; resolved by :mod:`goldgate.secrets`), and any string that
looks like a literal credential anywhere in the file is rejected.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from goldgate import safeload
from goldgate.clients.settings import KubernetesTarget as KubernetesTarget
from goldgate.clients.settings import Timeouts as Timeouts
from goldgate.release_policy import ReleaseLayout, ReleasePolicy
from goldgate.secrets import (
    REF_RE,
    REFERENCE_FORMS,
    ConnectionUrl,
    SecretRef,
    SecretsConfig,
    check_ref,
    find_literal_secrets,
)
from goldgate.secrets import SecretResolutionError as SecretResolutionError
from goldgate.secrets import resolve_secret as resolve_secret

ENV_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class EnvironmentFileError(Exception):
    """An environment that cannot be used; the message is the whole explanation."""


# --------------------------------------------------------------------------- secrets
# References and their resolution live in goldgate.secrets (one module per backend); the
# names below stay importable from here for existing callers.
_REF_RE = REF_RE
_check_ref = check_ref
_resolve_secret = resolve_secret


# --------------------------------------------------------------------------- schema
# The ``kubernetes`` and ``timeouts`` sections (KubernetesTarget, Timeouts) are the clients'
# own settings and live with them in goldgate.clients.settings; they stay importable here.
class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpTarget(_Model):
    """How to reach the bot's HTTP API. ``service`` resolves it from the Service's load balancer."""

    base_url: str = Field("service", description="the bot's HTTP API: an http(s):// URL, or 'service' = the Service's load balancer")
    standby_url: str | None = Field(None, description="the standby (secondary) region's bot URL, for the §9.3 failover checks")
    tls_url: str | None = Field(None, description="TLS endpoint whose certificate is checked ('sandbox' = loopback endpoint)")
    ca_bundle: str | None = Field(None, description="CA file to verify tls_url against (default: system trust store)")
    headers: dict[str, SecretRef] = Field(default_factory=dict, description="HTTP headers sent with every request to the bot; values are secret references")
    verify_tls: bool = Field(True, description="verify the bot's TLS certificate on https:// base URLs")

    @field_validator("base_url")
    @classmethod
    def _url_or_service(cls, v: str) -> str:
        if v != "service" and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError("must be 'service' or an http(s):// URL")
        return v.rstrip("/")


class Thresholds(_Model):
    """The guide's numbers (§6.1, §8.1, §8.3, §1.2); ratios are fractions, not percent."""

    error_rate: float = Field(0.01, gt=0, lt=1, description="§6.1 automatic rollback above 1 %")
    p95_latency_ms: float = Field(500.0, gt=0, description="§8.1 alert above 500 ms")
    p95_baseline_factor: float = Field(2.0, gt=1, description="§6.1 rollback above 2x baseline")
    free_disk_ratio: float = Field(0.10, gt=0, lt=1, description="§6.1/§8.3 rollback under 10 % free")
    cpu_utilization: float = Field(0.70, gt=0, le=1, description="§8.3 target < 70 %")
    memory_utilization: float = Field(0.80, gt=0, le=1, description="§8.3 target < 80 %")
    certificate_days_left: int = Field(14, ge=1, le=3650, description="§1.2 the TLS certificate must stay valid this many days")
    smoke_latency_ms: float = Field(500.0, gt=0, description="budget for one smoke request")
    min_requests: int = Field(200, ge=1, description="fewer requests than this: INCONCLUSIVE")
    max_restarts: int = Field(0, ge=0, description="§6.1 container restarts tolerated before a rollback")
    max_oom_kills: int = Field(0, ge=0, description="§6.1 OOM kills tolerated before a rollback (guide: any)")
    post_deploy_error_rate: float = Field(0.001, gt=0, lt=1, description="§5.3 error rate should be < 0.1 %")
    db_query_latency_ms: float = Field(
        50.0, gt=0, description="§8.3 database query latency: mean execution time per statement over the window "
        "(pg_stat_statements); the guide names the metric, 50 ms is goldgate's default")
    db_connections_ratio: float = Field(0.8, gt=0, le=1, description="§8.3 database connection count: at most this "
                                        "share of the server's max_connections")
    db_min_statements: int = Field(50, ge=1, description="§8.3 fewer statements in the window than this: the "
                                   "latency is INCONCLUSIVE")
    network_bytes_per_request: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="§8.3 network I/O baseline: the bytes in + out the selected "
        "pods are expected to move per served request (the kubelet's counters over the window / the metric "
        "source's requests); the guide expects a baseline without a number, so none is assumed: unset, the check "
        "is INCONCLUSIVE")
    network_io_factor: float = Field(2.0, gt=1, allow_inf_nan=False, description="§8.3 network I/O: bytes per "
                                     "request above baseline x factor or below baseline / factor fail")


class ErrorRateTest(_Model):
    """Sequential test between a healthy and a breached error rate around the 1 % rule."""

    healthy_rate: float = Field(0.005, gt=0, lt=1, description="error rate the sequential test treats as healthy (below thresholds.error_rate)")
    breached_rate: float = Field(0.02, gt=0, lt=1, description="error rate the sequential test treats as breached (above thresholds.error_rate)")
    false_rollback: float = Field(0.01, gt=0, lt=0.5, description="alpha")
    missed_breach: float = Field(0.05, gt=0, lt=0.5, description="beta")
    max_requests: int | None = Field(None, ge=1, description="truncate the one-look test here")
    max_gap_s: float | None = Field(None, gt=0, description="longest stretch without requests a PASS may span "
                                    "(default: 3 evaluation intervals); longer is INCONCLUSIVE")
    horizon_s: float | None = Field(None, gt=0, description="horizon the false-rollback budget is spread over "
                                    "(default: max(2 x monitoring_window_s, canary phase deadline))")
    resolution_s: float | None = Field(None, gt=0, description="closest spacing of the window test's starting "
                                       "points (default: horizon / 720)")
    dispersion: float | Literal["auto"] = Field(
        "auto", description="variance ratio (phi >= 1, 1 = independent errors) of the error counts of a minute "
        "or of a poll, whichever holds fewer requests, a release with no stable beside it is tested under; auto: "
        "estimated from per-poll counts (the stable version's before the switch, the release's own polls), the "
        "estimate +- one standard error allowed; a number: the most allowed, the least the estimate's lower end "
        "once there is history enough (before that independent requests); a number more than two standard "
        "errors below the estimate gives way to it")
    default_dispersion: float = Field(30.0, ge=1, description="variance ratio (of a minute's or a poll's "
                                      "error counts, whichever hold fewer requests) assumed while too little "
                                      "history exists to estimate it (dispersion: auto)")
    dispersion_min_polls: int = Field(30, ge=2, description="consecutive polls with traffic (and 10 errors) "
                                      "needed before the dispersion is estimated instead of assumed")
    latency_dispersion: float = Field(300.0, ge=1, description="variance ratio (of a minute's or a poll's "
                                      "counts of requests slower than factor x the stored baseline p95, whichever "
                                      "hold fewer requests) up to which the lone latency rule's alarm allows "
                                      "bursts; fixed, never narrowed by calm polls")

    @model_validator(mode="after")
    def _ordered(self) -> ErrorRateTest:
        if not self.healthy_rate < self.breached_rate:
            raise ValueError("healthy_rate must be below breached_rate")
        if self.dispersion != "auto" and not (isinstance(self.dispersion, float) and 1 <= self.dispersion < float("inf")):
            raise ValueError(f"dispersion must be 'auto' or a variance ratio >= 1, got {self.dispersion!r}")
        return self


class Router(_Model):
    """What carries the canary's traffic weight (guide §2.2 "route 10% traffic")."""

    kind: Literal["gateway-api", "ingress", "replicas"] | None = Field(
        None, description="Gateway API HTTPRoute, NGINX Ingress canary annotations, or replica ratio "
        "(default: strategy.canary_traffic, else gateway-api)")
    name: str | None = Field(None, description="the HTTPRoute or canary Ingress (default: kubernetes.service)")
    namespace: str | None = Field(None, description="its namespace (default: kubernetes.namespace)")
    stable_service: str | None = Field(None, description="backend of the stable side (default: kubernetes.service)")
    canary_service: str | None = Field(None, description="backend of the canary side (default: <service>-canary)")


class Strategy(_Model):
    """Rollout timings of guide §2/§3; production keeps the guide's, local scales them."""

    kind: Literal["rolling", "canary", "blue-green"] = Field("rolling", description="the deployment strategy of this environment (§2): rolling, canary or blue-green")
    canary_weights: list[int] = Field(default_factory=lambda: [10, 50, 100], description="§2.2 canary traffic percentages per phase, strictly rising, ending at 100")
    canary_phase_s: float = Field(1800.0, gt=0, description="§2.2 monitor each phase 30 minutes")
    canary_phase_deadline_s: float | None = Field(
        None, gt=0, description="a phase still INCONCLUSIVE at this age rolls back (default: 2x canary_phase_s)")
    canary_traffic: Literal["replicas", "gateway-api", "ingress", "service-mesh"] = Field("replicas", description="what carries the canary's weight: pod replica ratio, a Gateway API route, an NGINX Ingress")
    router: Router | None = Field(None, description="the route whose weights split canary traffic; "
                                  "unset: replica ratio behind one Service (said so in the verdict)")
    monitoring_window_s: float = Field(7200.0, gt=0, description="§2.1/§5.2 monitor 2+ hours")
    evaluation_interval_s: float = Field(60.0, gt=0, description="how often rollout criteria are evaluated in seconds (at most canary_phase_s)")
    rollout_timeout_s: float = Field(3600.0, gt=0, description="§2.3 30-60 minutes for full deployment")
    migration_monitor_s: float = Field(3600.0, gt=0, description="§3.2 monitor 1+ hour")
    post_deploy_window_s: float | None = Field(
        None, gt=0, description="§5.3 window over which the post-deploy error rate (< 0.1 %) is counted "
        "(default: monitoring_window_s)")
    drain_timeout_s: float = Field(30.0, ge=0, description="§7.3 30-second drain")
    post_rollback_window_s: float = Field(
        600.0, gt=0, description="§6.2 step 5 'monitor metrics': how long the restored stable version is watched "
        "on the rollback criteria after every automatic rollback (the guide names no duration: 10 minutes)")
    baseline: Literal["none"] | None = Field(
        None, description="'none' states that no baseline exists: the p95-vs-baseline trigger is waived, "
        "visibly, instead of holding every phase INCONCLUSIVE")
    exercised: list[Literal["rolling", "canary", "blue-green"]] | None = Field(
        None, description="strategies whose scenarios run here (default: only `kind`); the others are "
        "deselected as not applicable")

    @property
    def strategies(self) -> list[str]:
        return list(self.exercised) if self.exercised else [self.kind]

    @field_validator("canary_weights")
    @classmethod
    def _rising_to_100(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("needs at least one weight")
        if any(w <= 0 or w > 100 for w in v):
            raise ValueError("weights must be between 1 and 100")
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError(f"weights must be strictly rising, got {v}")
        if v[-1] != 100:
            raise ValueError(f"the last weight must be 100, got {v[-1]}")
        return v

    @model_validator(mode="after")
    def _interval_fits(self) -> Strategy:
        if self.evaluation_interval_s > self.canary_phase_s:
            raise ValueError("evaluation_interval_s must not exceed canary_phase_s")
        return self

    @model_validator(mode="after")
    def _router_drivable(self) -> Strategy:
        """A traffic mechanism goldgate cannot drive is refused at load, not by every canary check."""
        if self.canary_traffic != "replicas" and self.router is None:
            raise ValueError(f"canary_traffic {self.canary_traffic!r} needs strategy.router "
                             "(the HTTPRoute or canary Ingress that carries the weights)")
        kind = (self.router.kind if self.router is not None else None) or self.canary_traffic
        if self.router is not None and kind == "service-mesh":
            raise ValueError("router.kind 'service-mesh': goldgate routes canary traffic by gateway-api, "
                             "ingress or replicas; set strategy.router.kind")
        return self


class Metrics(_Model):
    """Where rates and quantiles come from: Prometheus, or the pods' /metrics directly."""

    source: Literal["prometheus", "scrape"] = Field("scrape", description="'scrape' = the pods' /metrics directly, 'prometheus' = PromQL against metrics.prometheus_url")
    prometheus_url: str | None = Field(None, description="Prometheus HTTP API base URL (required with source 'prometheus')")
    prometheus_auth: SecretRef | None = Field(None, description="secret reference of the Authorization header sent to Prometheus")
    queries: dict[str, str] = Field(default_factory=dict, description="PromQL overrides by name (error_rate, p95_latency_ms, ...) for a team's own metric names")
    routes: str = Field("/api/.*", description="regex of the routes that count for error rate and latency")
    scrape_interval_s: float = Field(1.0, gt=0, le=300, description="seconds between two scrapes of the pods' /metrics")
    targets_file: str | None = Field(None, description="Prometheus file-SD targets file the bot's targets are "
                                     "read from when metrics.source is 'scrape'")

    @model_validator(mode="after")
    def _prometheus_needs_url(self) -> Metrics:
        if self.source == "prometheus" and not self.prometheus_url:
            raise ValueError("metrics.source 'prometheus' needs metrics.prometheus_url")
        return self


class Release(_Model):
    """What is being released and where its evidence lives (checklist, issue of §1)."""

    version: str = Field(..., description="the version under test, as the bot's /version reports it")
    previous_version: str | None = Field(None, description="the stable version a rollback returns to (unset: rollback checks skip, naming it)")
    image: str | None = Field(None, description="container image of the version under test (unset: nothing to roll out)")
    project: str | None = Field(None, description="checkout of the release's source project ('sandbox' = reference bot)")
    artifacts: str | None = Field(None, description="folder with the CI artifacts (JUnit, coverage, SARIF)")
    manifest: str | None = Field(None, description="release.yaml with approvals, change ticket, window")
    min_approvals: int = Field(2, ge=1, description="§11.2 approvals by people other than the author")
    reference_spec: str | None = Field(
        None, description="production's Deployment spec to hold this cluster against: 'sandbox', a manifest "
        "path (relative to the project) or kube:CONTEXT/NAMESPACE/NAME")
    alert_rules: str = Field("deploy/prometheus", description="alert rules + promtool tests, relative to the project")
    communication_url: str | None = Field(
        None, description="§1.3 the release's communication channel (overrides communication.url in release.yaml)")
    layout: ReleaseLayout = Field(default_factory=ReleaseLayout, description="where the release keeps its files")
    models: str | None = Field(None, description="the release's SQLAlchemy MetaData as module:attribute, "
                               "compared with the migrated schema (models-match); unset: NOT RUN")
    migrations_url_env: list[str] = Field(
        default_factory=list, description="environment variables the project's env.py reads its database URL "
        "from; goldgate sets them to the scratch database")
    migrations_timeout_s: float = Field(
        120.0, gt=0, le=24 * 3600, description="limit of each run of the project's env.py (and of loading its "
        "history), in seconds: past it the process running it is ended, the scratch database removed and the "
        "migration checks are ERROR naming env.py and the limit (goldgate check migrations --timeout overrides it)")
    lock_files: list[str] | None = Field(
        None, description="lock files relative to the project (default: requirements.lock, requirements.txt, "
        "poetry.lock, uv.lock found in it)")
    registry: str | None = Field(
        None, description="§5.2 the OCI registry the release image is pushed to, as a base URL (http(s)://host[:port]; "
        "'sandbox' = the sandbox's registry); the image's repository and tag come from the running Deployment and "
        "the release version (unset: the registry check is NOT RUN)")
    repository: str | None = Field(
        None, description="§5.3/§9.2 a local clone of the release's Git repository, whose tag <version> names the "
        "release commit and holds the manifests to recover from ('sandbox' = the reference bot's repository; "
        "unset: the Git checks are NOT RUN)")
    manifests_path: str = Field(
        "deploy/k8s", description="§9.2 the folder of the deployed Kubernetes manifests inside the Git repository")


class LoadProfile(_Model):
    """Traffic for load gates; bounded by duration and a hard request cap."""

    users: int = Field(10, ge=1, le=10_000, description="concurrent simulated users")
    spawn_rate: float = Field(10.0, gt=0, description="users started per second")
    rate_rps: float = Field(20.0, gt=0, le=100_000, description="target request rate of the open workload model")
    duration_s: float = Field(20.0, gt=0, le=24 * 3600, description="length of one load run in seconds")
    max_requests: int = Field(20_000, ge=1, description="hard cap on the requests of one load run")
    generator_max_cpu_percent: float = Field(90.0, gt=0, le=100, description="load generator busier than "
                                             "this: the load verdict is INCONCLUSIVE")
    generator_min_completion: float = Field(0.9, gt=0, le=1, description="share of the planned requests "
                                            "that must be sent")
    generator_max_send_lag_ms: float = Field(100.0, gt=0, description="p95 send lag of the open model")
    think_time_s: tuple[float, float] = Field((0.05, 0.2), description="pause between a user's requests, [min, max] seconds")
    weights: dict[str, int] = Field(default_factory=lambda: {"signal": 10, "order": 2, "health": 1, "ready": 1}, description="relative share of each request kind (signal, order, health, ready)")
    max_rate_rps: float | None = Field(None, gt=0, description="explicit cap, required against production")
    baseline_url: str | None = Field(None, description="the stable (previous) version's URL: the same load runs "
                                     "against it for the p95-vs-baseline comparison (not http.standby_url, which "
                                     "is the standby region running the same release)")


class Recovery(_Model):
    """Disaster-recovery objectives of guide §9.1."""

    rpo_s: float = Field(3600.0, gt=0, description="§9.1 maximum 1 hour data loss")
    rto_s: float = Field(900.0, gt=0, description="§9.1 15-minute recovery time")
    pitr_days: int = Field(7, ge=1, description="§3.3 PITR 7+ days")
    backups: str | None = Field(None, description="backup folder (catalogue.json or dump files); 'sandbox' = the release's")
    drill_max_age_days: float = Field(92.0, gt=0, description="§9.3 quarterly failover drills")
    postgresql_conf: str | None = Field(None, description="postgresql.conf to read PITR settings from when no database.url")
    wal_archive: str | None = Field(
        None, description="folder the database's archive_command copies WAL segments into (its oldest segment is "
        "the PITR window); 'sandbox' = the sandbox's order database, which also sets database.url")
    second_region_backups: str | None = Field(
        None, description="§3.3 the backup store of the second region (a catalogue.json beside copies of the "
        "backups); 'sandbox' = the sandbox's secondary region")
    verify_interval_s: float = Field(43200.0, gt=0, description="§3.3 backups verified at least twice a day: the "
                                     "latest verification by a real restore at most this old (seconds)")
    pitr_window_s: float = Field(604800.0, gt=0, description="§3.3 PITR 7+ days: how far back the WAL archive "
                                 "must reach, in seconds")
    production_db_size_gb: float = Field(
        50.0, gt=0, description="§9.1 size of the production order database the RTO drill's measured restore rate "
        "is projected to (GB; default 50 GB when the team states none)")
    drill_rows: int = Field(1_000_000, ge=1000, description="§9.1 orders generated in a scratch database for the "
                            "timed restore of the RTO drill (at least a million, so it takes seconds)")


class Regions(_Model):
    """Guide §9.3: primary active, secondary hot standby behind one global endpoint."""

    global_url: str | None = Field(None, description="the global endpoint in front of both regions")
    failback_url: str | None = Field(None, description="hook of the manual failback runbook (POST)")
    standby_database_url: str | None = Field(
        None, description="secret reference (env:, file:, vault:, aws-sm:, k8s:) of the standby database")
    health_check_interval_s: float = Field(10.0, gt=0, description="§7.3 health checks every 10 seconds")
    secondary_context: str | None = Field(None, description="kubeconfig context of the secondary region")


class Firewall(_Model):
    """Hosts whose listening ports testinfra checks (guide §1.2 firewall rules)."""

    hosts: list[str] = Field(default_factory=list, description="testinfra host specs, e.g. ssh://bot-1")
    allowed_ports: list[int] = Field(default_factory=lambda: [22, 8080], description="§1.2 the only ports the hosts may listen on")


class Database(_Model):
    """The bot's database: read for PITR settings; restores and migrations only ever use the scratch one."""

    url: ConnectionUrl | None = Field(
        None, description="the live database (read-only: PITR settings); a URL without a password as written "
        "(sqlite:///bot.db), else a secret reference")
    scratch_url: ConnectionUrl | None = Field(
        None, description="a database goldgate may write to for migration round-trips and restore drills; "
        "a URL without a password, or a secret reference (default: a scratch SQLite file)")


class TradingFields(_Model):
    """Names of the fields in the bot's decision record (``trading.decisions_path``).

    A team's bot that calls its signal ``side`` or its bar ``ts`` states it here; the
    evidence source reads the record through these names only.
    """

    decisions: str = Field("decisions", description="the list of decisions in the record's answer")
    bar_time: str = Field("bar_time", description="bar open time of a decision (ISO 8601 or epoch seconds)")
    symbol: str = Field("symbol", description="instrument of a decision (XAUUSD)")
    signal: str = Field("signal", description="the decided signal: BUY, SELL or HOLD")
    model_version: str = Field("model_version", description="model that decided (shown, never judged)")
    mid: str = Field("mid", description="market mid price at the decision (for the price collar)")
    orders: str = Field("orders", description="orders placed on the decision")
    order_id: str = Field("order_id", description="an order's id")
    side: str = Field("side", description="an order's side (BUY/SELL)")
    volume: str = Field("volume", description="an order's volume in lots")
    limit_price: str = Field("limit_price", description="an order's limit price")
    status: str = Field("status", description="an order's status (open/filled/cancelled/rejected/expired)")
    fill_price: str = Field("fill_price", description="an order's fill price, if filled")
    reject_reason: str = Field("reject_reason", description="why an order was rejected")
    placed_at: str = Field("placed_at", description="when an order was placed (default: its decision's bar time)")
    halted: str = Field("halted", description="true while the kill switch is on")
    position: str = Field("position", description="net position per symbol in lots")
    pnl: str = Field("pnl_usd", description="mark-to-market P&L in USD")
    open_orders: str = Field("open_orders", description="orders resting now")
    orders_since_halt: str = Field("orders_since_halt", description="orders placed after the last halt "
                                   "(kill-switch status; shown, never trusted over the record)")
    cancelled_orders: str = Field("cancelled_orders", description="order ids the kill switch cancelled")


class TradingMetrics(_Model):
    """Prometheus names of the bot's trading counters and gauges (guide §8.2 trades and P&L)."""

    bars: str = Field("trading_bars_total", description="bars decided on, per symbol")
    signals: str = Field("trading_signals_total", description="decisions by signal")
    orders: str = Field("trading_orders_total", description="orders placed")
    fills: str = Field("trading_fills_total", description="orders filled")
    rejects: str = Field("trading_order_rejects_total", description="orders rejected")
    position: str = Field("trading_position_lots", description="signed net position")
    open_orders: str = Field("trading_open_orders", description="resting orders now")
    halted: str = Field("trading_halted", description="1 while the kill switch is on")
    pnl: str = Field("pnl_usd", description="mark-to-market P&L in USD")


class TradingLimits(_Model):
    """Pre-trade controls (EU RTS 6 Art. 15): hard guards, a single breach rolls back."""

    max_order_volume: float = Field(1.0, gt=0, description="largest order volume in lots")
    max_notional_usd: float = Field(250_000.0, gt=0, description="largest order notional (volume x contract "
                                    "size x price) in USD")
    contract_size: dict[str, float] = Field(default_factory=lambda: {"XAUUSD": 100.0, "XAGUSD": 5000.0},
                                            description="units of the underlying per lot, by symbol (XAUUSD: "
                                            "100 troy ounces) - notional = volume x contract size x price")
    default_contract_size: float = Field(100.0, gt=0, description="units per lot of a symbol not listed")
    price_collar_bps: float = Field(50.0, gt=0, description="farthest a limit price may be from the bar's mid, "
                                    "in basis points")
    max_position_lots: float = Field(3.0, gt=0, description="largest absolute net position per symbol")
    max_orders_per_minute: float = Field(120.0, gt=0, description="message rate: orders per minute per pod")


class TradingSettings(_Model):
    """The trading canary: where a bot's decisions, kill switch and trading metrics are, and
    the numbers a release's trading is held to (guide §8.2 trades and P&L, §6.1 rollback).

    The names default to the reference bot's (documented decision record and kill switch);
    a team's bot states its own. The thresholds default to the guide's numbers.
    """

    enabled: bool = Field(True, description="judge the release's trading in every rollout phase; off for a "
                          "service that does not trade (the trading triggers are then NOT RUN, said so)")
    decisions_path: str = Field("/api/v1/decisions", description="the bot's decision record (GET, "
                                "?since=<bar_time>&limit=<n>)")
    halt_path: str = Field("/api/v1/trading/halt", description="kill switch: stop new orders, cancel open ones")
    resume_path: str = Field("/api/v1/trading/resume", description="undo of the kill switch")
    status_path: str = Field("/api/v1/trading/status", description="kill-switch state and orders since halt")
    port: int | None = Field(None, ge=1, le=65535, description="pod port serving the record and the kill switch "
                             "(default: the port its metrics are scraped from)")
    since_param: str = Field("since", description="query parameter of the record: decisions after this bar")
    limit_param: str = Field("limit", description="query parameter of the record: page size")
    time_format: Literal["iso8601", "epoch"] = Field("iso8601", description="how the record writes bar times "
                                                     "and reads the since parameter: ISO 8601 UTC or epoch seconds")
    page_size: int = Field(1000, ge=1, le=100_000, description="decisions asked for per request")
    max_pages: int = Field(20, ge=1, le=1000, description="pages read per pod per evaluation (bounds one read)")
    fields: TradingFields = Field(default_factory=TradingFields, description="names of the fields in the bot's decision record")
    metrics: TradingMetrics = Field(default_factory=TradingMetrics, description="Prometheus names of the bot's trading counters and gauges")
    min_agreement: float = Field(0.95, gt=0, le=1, description="the canary's signals agree with the stable "
                                 "version's on at least this share of bars")
    agreement_tolerance: float = Field(0.02, ge=0, lt=1, description="a PASS needs the agreement's lower bound at "
                                       "the expected agreement (min_agreement unless the release manifest states "
                                       "expected_agreement) minus this")
    false_rollback: float = Field(0.01, gt=0, lt=0.5, description="chance of rolling back a healthy canary over "
                                  "a phase (the trading tests' alpha)")
    missed_breach: float = Field(0.05, gt=0, lt=0.5, description="chance of passing a canary that breaches "
                                 "(the trading tests' beta)")
    trade_rate_ratio: tuple[float, float] = Field((0.5, 2.0), description="canary trades per bar per pod within "
                                                  "this ratio of the stable version's")
    reject_margin: float = Field(0.02, ge=0, lt=1, description="canary reject rate above stable's by more than "
                                 "this: rollback")
    max_drawdown_usd: float = Field(500.0, gt=0, description="canary mark-to-market drawdown budget since it "
                                    "started trading")
    limits: TradingLimits = Field(default_factory=TradingLimits, description="pre-trade limits (EU RTS 6 Art. 15): a single breach rolls back")
    min_bars: int = Field(20, ge=1, description="bars (paired by bar and symbol where compared) a phase needs "
                          "before any trading check may PASS")
    market_control_url: str | None = Field(None, description="a rehearsal's market session control (POST <url>/close, "
                                           "<url>/open): only where rehearsals run; unset elsewhere")
    halt_verify_s: float = Field(2.0, ge=0, le=600, description="the record is read this often after a halt "
                                 "(at most 8 times) until every halted pod decided BUY or SELL since it, or an "
                                 "order placed despite it shows")

    @field_validator("trade_rate_ratio")
    @classmethod
    def _ratio_bounds(cls, v: tuple[float, float]) -> tuple[float, float]:
        low, high = v
        if not 0 < low < 1 < high:
            raise ValueError(f"needs 0 < low < 1 < high, got [{low:g}, {high:g}]")
        return v

    @field_validator("decisions_path", "halt_path", "resume_path", "status_path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError("must be a path starting with '/'")
        return v


class Waiver(_Model):
    """A selected check allowed not to run, with who approved it and until when (never forever).

    ``check`` names a scenario (its name as in the feature file), a test (its pytest node id
    or the part after the last ``::``). A waiver covers only a check that did not run: a
    waived check that runs and fails still fails.
    """

    check: str = Field(..., min_length=1, description="the waived check: scenario name, pytest node id, or test name")
    reason: str = Field(..., min_length=3, description="why the check may not run")
    approver: str = Field(..., min_length=2, description="who approved the waiver")
    expiry: dt.date = Field(..., description="last day the waiver holds (YYYY-MM-DD); after it the run stops (exit 4)")

    def matches(self, names: Iterable[str]) -> bool:
        return any(name == self.check for name in names)


class JudgeTls(_Model):
    """TLS of the judge's own listener; with ``client_ca``, mutual TLS in place of the bearer token.

    Each value is a file path (a mounted Secret's file) or a secret reference whose value is
    the PEM text (``env:``, ``vault:``...); never the PEM itself. With ``client_ca`` every
    client must present a certificate signed by that CA (``CERT_REQUIRED``): the handshake
    authenticates it, so no token is asked for; a client without one is refused before HTTP.
    """

    cert: str = Field(..., min_length=1, description="the judge's certificate chain (PEM): file path or secret "
                      "reference")
    key: str = Field(..., min_length=1, description="the judge's private key (PEM): file path or secret reference")
    client_ca: str | None = Field(None, min_length=1, description="CA bundle (PEM) that signs the clients' "
                                  "certificates: file path or secret reference; set: mutual TLS, no token needed")

    @field_validator("cert", "key", "client_ca")
    @classmethod
    def _not_pem(cls, value: str | None) -> str | None:
        if value is not None and "-----BEGIN" in value:
            raise ValueError(f"a file path or a secret reference ({REFERENCE_FORMS}), not the PEM itself")
        return value


class FlagServer(_Model):
    """Guide §4.2: the feature-flag server (Unleash) the release's flags live on.

    goldgate reads its admin API (``token``: a secret reference of an admin API token; it is
    also what turns a kill switch off and on again, behind --allow-mutations). ``app_name``
    is the client application name the release's pods report their flag usage under.
    """

    url: str | None = Field(None, description="base URL of the Unleash server (sandbox: the sandbox's own)")
    token: str | None = Field(None, description="secret reference (env:, file:, vault:, ...) of an admin API "
                              "token (unset with url: sandbox: the token the sandbox's server was started with)")
    project: str = Field("default", min_length=1, description="the Unleash project holding the release's flags")
    environment: str = Field("production", min_length=1, description="the Unleash environment the release's pods "
                             "evaluate flags in (its client token's environment)")
    app_name: str = Field("trading-bot", min_length=1, description="appName the release's pods report usage as")
    refresh_interval_s: float = Field(15.0, gt=0, description="the bot's flag client refresh interval: a kill switch "
                                      "must take effect within it (plus kill_switch_margin_s)")
    kill_switch_margin_s: float = Field(5.0, ge=0, description="allowance on top of the refresh interval (a scrape, "
                                        "the bot's own evaluation period)")
    feature_metric: str = Field("bot_feature_enabled", min_length=1, description="gauge each pod exports per "
                                "feature (label feature): 1 while the pod uses it, 0 when switched off")
    max_flag_age_days: float = Field(90.0, gt=0, description="§4.2 cleanup: a flag older than this is stale even "
                                     "when the server does not mark it")
    usage_wait_s: float = Field(30.0, gt=0, description="how long to wait for the server's client metrics to show "
                                "the release's pods evaluating a flag")
    variant_confidence: float = Field(0.99, gt=0.5, lt=1, description="confidence of the bound an A/B variant's "
                                      "share of requests must fall within")
    min_variant_samples: int = Field(100, ge=10, description="evaluations needed before an A/B split is judged")
    variant_metric: str = Field("bot_flag_variant_requests_total", min_length=1, description="counter each pod "
                                "exports of the requests it answered per A/B variant (labels flag, variant)")
    variant_window_s: float = Field(60.0, gt=0, description="window over which the pods' per-variant request "
                                    "counts are read for the A/B split")
    variant_traffic_rps: float = Field(0.0, ge=0, description="signal requests per second goldgate sends during "
                                       "that window (loopback targets only; 0: the users' traffic is the sample)")


class Judge(_Model):
    """The HTTP judge (``goldgate serve``): who may call it and how much it accepts.

    ``token`` is a secret reference (``env:GOLDGATE_JUDGE_TOKEN``); without one the judge
    refuses to start unless it listens on loopback only. The Kayenta numbers are the
    remote judge's defaults when a canary config does not set its own.
    """

    token: SecretRef | None = Field(None, description="bearer token every request must carry (a secret reference)")
    max_body_bytes: int = Field(262_144, ge=1024, le=16 * 1024 * 1024, description="larger request bodies: 413")
    rate_limit_per_minute: int = Field(600, ge=1, description="requests per client address per minute; over: 429")
    workers: int = Field(8, ge=1, le=256, description="threads evaluating runs (probes block)")
    idle_run_s: float = Field(900.0, gt=0, description="a run nobody asked about for this long stops being "
                              "evaluated (its evidence stays in the store)")
    state: str | None = Field(None, description="evidence store file (default .goldgate/judge/ENV.sqlite3); unused "
                              "when store_url is set")
    tls: JudgeTls | None = Field(None, description="TLS of the judge's listener; with tls.client_ca, mutual TLS "
                                 "instead of the bearer token")
    store_url: SecretRef | None = Field(None, description="PostgreSQL DSN of the evidence store, as a secret reference "
                                        "(env:GOLDGATE_JUDGE_STORE_URL); unset: the local file judge.state")
    kayenta_confidence: float = Field(0.98, gt=0.5, lt=1, description="Mann-Whitney confidence of a High/Low")
    kayenta_min_points: int = Field(10, ge=2, description="fewer finite points on a side: Nodata")


class NotApplicable(_Model):
    """A check that does not apply to this service ("no TLS endpoint", "no feature-flag file").

    Matched like a waiver (scenario name, pytest node id, or the part after the last
    ``::``); the check is skipped as "not applicable: <reason>" and does not hold back GO.
    Unlike a waiver it needs no approval outside production; in an environment with
    ``production: true`` it needs an approver and an expiry, as a waiver does, because
    there it removes a gate.
    """

    check: str = Field(..., min_length=1, description="the check that does not apply: scenario name, pytest "
                       "node id, or test name")
    reason: str = Field(..., min_length=3, description="why it does not apply to this service (shown wherever "
                        "the decision is)")
    approver: str | None = Field(None, min_length=2, description="who approved it (required when production: true)")
    expiry: dt.date | None = Field(None, description="last day it holds, YYYY-MM-DD (required when production: "
                                   "true); after it the run stops (exit 4)")

    def matches(self, names: Iterable[str]) -> bool:
        return any(name == self.check for name in names)

    def to_dict(self) -> dict[str, str]:
        out = {"check": self.check, "reason": self.reason}
        if self.approver:
            out["approver"] = self.approver
        if self.expiry:
            out["expiry"] = self.expiry.isoformat()
        return out


# --------------------------------------------------------------------------- records
class _RecordSource(_Model):
    url: str = Field(..., pattern=r"^https?://", description="base URL of the service's API (http(s)://)")
    token: SecretRef | None = Field(None, description="secret reference of the read-only API token")


class GitHubReviews(_RecordSource):
    """Guide §1.1/§11.2 code review read from GitHub's pull-request reviews."""

    provider: Literal["github"] = Field(..., description="GitHub (or GitHub Enterprise: url .../api/v3)")
    url: str = Field("https://api.github.com", pattern=r"^https?://", description="REST API base URL")
    repository: str = Field(..., pattern=r"^[^/\s]+/[^/\s]+$", description="owner/name of the release's repository")
    token: SecretRef = Field(..., description="secret reference of a token with read access to pull requests")


class GitLabApprovals(_RecordSource):
    """Guide §1.1/§11.2 code review read from GitLab's merge-request approvals."""

    provider: Literal["gitlab"] = Field(..., description="GitLab (gitlab.com or self-managed)")
    url: str = Field("https://gitlab.com", pattern=r"^https?://", description="instance URL (the API is <url>/api/v4)")
    project: str = Field(..., min_length=1, description="project id or full path (group/name)")
    token: SecretRef = Field(..., description="secret reference of a token with read_api scope")


class PagerDutyOnCall(_RecordSource):
    """Guide §1.3 on-call read from PagerDuty's on-call entries of one escalation policy."""

    provider: Literal["pagerduty"] = Field(..., description="PagerDuty REST API v2")
    url: str = Field("https://api.pagerduty.com", pattern=r"^https?://", description="REST API base URL")
    escalation_policy: str = Field(..., min_length=1, description="id of the bot's escalation policy")
    token: SecretRef = Field(..., description="secret reference of a read-only REST API key")


class OpsgenieOnCall(_RecordSource):
    """Guide §1.3 on-call read from Opsgenie's schedule timelines (primary and secondary schedule)."""

    provider: Literal["opsgenie"] = Field(..., description="Opsgenie REST API v2")
    url: str = Field("https://api.opsgenie.com", pattern=r"^https?://", description="REST API base URL")
    schedule: str = Field(..., min_length=1, description="id of the primary on-call schedule")
    secondary_schedule: str = Field(..., min_length=1, description="id of the secondary on-call schedule")
    token: SecretRef = Field(..., description="secret reference of an API key with read access")


class ServiceNowChange(_RecordSource):
    """Guide §11.2 change approval and window read from a ServiceNow change request."""

    provider: Literal["servicenow"] = Field(..., description="ServiceNow Table API")
    table: str = Field("change_request", description="table of the change records")
    number_field: str = Field("number", description="field holding the ticket number the release names")
    state_field: str = Field("state", description="field of the change's state")
    approval_field: str = Field("approval", description="field of the change's approval")
    start_field: str = Field("start_date", description="field of the planned start")
    end_field: str = Field("end_date", description="field of the planned end")
    approved_states: list[str] = Field(default_factory=lambda: ["Scheduled", "Implement"], min_length=1,
                                       description="states (display values) of a change cleared to deploy")
    approved_approvals: list[str] = Field(default_factory=lambda: ["Approved"], min_length=1,
                                          description="approval values (display values) that count as approved")
    user: str | None = Field(None, description="user name for basic authentication (with password)")
    password: SecretRef | None = Field(None, description="secret reference of that user's password")


class JiraChange(_RecordSource):
    """Guide §11.2 change approval and window read from a Jira issue."""

    provider: Literal["jira"] = Field(..., description="Jira REST API v2 (Cloud or Data Center)")
    status_field: str = Field("status", description="field of the issue's status")
    start_field: str = Field(..., min_length=1, description="field holding the planned start (e.g. customfield_10050)")
    end_field: str = Field(..., min_length=1, description="field holding the planned end")
    approved_states: list[str] = Field(default_factory=lambda: ["Approved", "Scheduled"], min_length=1,
                                       description="statuses of an issue cleared to deploy")
    user: str | None = Field(None, description="user (e-mail on Cloud) for basic authentication with token or password")
    password: SecretRef | None = Field(None, description="secret reference of the password (Data Center)")


class SlackNotification(_RecordSource):
    """Guide §1.3 "stakeholders notified" read from a Slack channel's history."""

    provider: Literal["slack"] = Field(..., description="Slack Web API conversations.history")
    url: str = Field("https://slack.com/api", pattern=r"^https?://", description="Web API base URL")
    channel: str = Field(..., min_length=1, description="id of the channel that announces releases (C...)")
    token: SecretRef = Field(..., description="secret reference of a bot token with channels:history")


class ChangeRecordNotification(_Model):
    """Guide §1.3 "stakeholders notified" read from the change record's work notes (records.change)."""

    provider: Literal["change_record"] = Field(..., description="the work notes/comments of records.change")


class Records(_Model):
    """The systems that hold the checklist's records; an unset kind falls back to release.yaml (declared)."""

    code_review: GitHubReviews | GitLabApprovals | None = Field(
        None, discriminator="provider", description="where code review is recorded (github | gitlab)")
    on_call: PagerDutyOnCall | OpsgenieOnCall | None = Field(
        None, discriminator="provider", description="where on-call is scheduled (pagerduty | opsgenie)")
    change: ServiceNowChange | JiraChange | None = Field(
        None, discriminator="provider", description="where the change is approved (servicenow | jira)")
    notification: SlackNotification | ChangeRecordNotification | None = Field(
        None, discriminator="provider", description="where stakeholders are notified (slack | change_record)")
    timeout_s: float = Field(10.0, gt=0, le=120, description="timeout of one call to a record system in seconds")
    retries: int = Field(2, ge=0, le=10, description="retries of a call after a 429, a 5xx or a connection failure")
    budget_s: float = Field(30.0, gt=0, le=600, description="longest a probe may spend, waits for Retry-After included")

    @model_validator(mode="after")
    def _usable(self) -> Records:
        if isinstance(self.notification, ChangeRecordNotification) and self.change is None:
            raise ValueError("notification.provider change_record reads records.change, which is not set")
        for name in ("change",):
            src = getattr(self, name)
            if src is not None and src.token is None and (src.user is None or src.password is None):
                raise ValueError(f"{name}: needs token, or user and password")
        return self


class Environment(_Model):
    """One target environment; the file name (without .yaml) must equal ``name``."""

    name: str = Field(..., description="the environment's name; must equal the file name without .yaml")
    description: str = Field("", description="free text shown nowhere but the file")
    production: bool = Field(False, description="a production environment: mutations need --change and approvals; waivers and not_applicable entries need an approver and expiry")
    kubernetes: KubernetesTarget = Field(default_factory=KubernetesTarget, description="where the bot runs (kubeconfig, namespace, names)")
    http: HttpTarget = Field(default_factory=HttpTarget, description="how to reach the bot's HTTP API and TLS endpoint")
    timeouts: Timeouts = Field(default_factory=Timeouts, description="bounds of every probe call")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="the guide's numbers the release is held to")
    error_rate_test: ErrorRateTest = Field(default_factory=ErrorRateTest, description="the sequential test behind the 1 % error-rate rollback")
    strategy: Strategy = Field(default_factory=Strategy, description="rollout strategy and its timings (§2, §3)")
    metrics: Metrics = Field(default_factory=Metrics, description="where rates and quantiles come from")
    release: Release = Field(..., description="what is released and where its evidence lives")
    load: LoadProfile = Field(default_factory=LoadProfile, description="traffic of the load gates")
    recovery: Recovery = Field(default_factory=Recovery, description="disaster-recovery objectives and evidence (§9)")
    database: Database = Field(default_factory=Database, description="the bot's database and the scratch database goldgate may write to")
    firewall: Firewall = Field(default_factory=Firewall, description="hosts whose listening ports are checked (§1.2)")
    regions: Regions | None = Field(None, description="the two-region setup of §9.3 (unset: single region; its checks skip, naming it)")
    policy: ReleasePolicy = Field(default_factory=ReleasePolicy, description="the team's conventions: runbooks, change tickets, changelog, configuration, backups, workloads")
    secrets: SecretsConfig = Field(default_factory=SecretsConfig, description="where secret references are resolved (Vault, AWS Secrets Manager)")
    judge: Judge = Field(default_factory=Judge, description="the HTTP judge (goldgate serve): token, limits, evidence store")
    trading: TradingSettings = Field(default_factory=TradingSettings, description="the trading canary: the bot's decision record, kill switch, names and limits (§8.2)")
    records: Records = Field(default_factory=Records, description="systems that hold code review, on-call, change "
                             "approval and notifications (unset: release.yaml, declared)")
    flags: FlagServer | None = Field(None, description="the feature-flag server of §4.2 (unset: flags are judged "
                                     "on the release's flags file only; the server checks skip, naming it)")
    rehearsals: bool = Field(False, description="run the scenarios that plant faults to rehearse goldgate's "
                             "own rollbacks (@rehearsal); only where goldgate may plant faults")
    waivers: list[Waiver] = Field(default_factory=list, description="checks allowed not to run, each with reason, approver and expiry")
    not_applicable: list[NotApplicable] = Field(
        default_factory=list, description="checks that do not apply to this service, each with its reason "
        "(+ approver and expiry when production: true); skipped as not applicable, they do not hold back GO")
    source_file: SkipJsonSchema[str] = Field("", exclude=True)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, v: str) -> str:
        if not ENV_NAME_RE.match(v):
            raise ValueError("must be lower-case letters, digits, '.', '_' or '-'")
        return v

    @model_validator(mode="after")
    def _cross_field(self) -> Environment:
        test, limit = self.error_rate_test, self.thresholds.error_rate
        if not test.healthy_rate < limit < test.breached_rate:
            raise ValueError(
                f"error_rate_test: healthy_rate ({test.healthy_rate:g}) < thresholds.error_rate ({limit:g}) "
                f"< breached_rate ({test.breached_rate:g}) must hold"
            )
        if self.production and self.kubernetes.is_sandbox:
            raise ValueError("a production environment cannot target the sandbox (kubernetes.kubeconfig: sandbox)")
        self._own_endpoint()
        for i, entry in enumerate(self.not_applicable):
            if self.production and (not entry.approver or entry.expiry is None):
                raise ValueError(f"not_applicable.{i} ({entry.check!r}): in a production environment a check "
                                 "declared not applicable needs an approver and an expiry, like a waiver")
        if self.rehearsals and (self.production or not self.kubernetes.is_sandbox):
            raise ValueError("rehearsals plant faults: only in an environment on the embedded sandbox "
                             "(kubernetes.kubeconfig: sandbox), never in production")
        return self


    def _own_endpoint(self) -> None:
        """No leakage: a symbolic ``http.tls_url`` is the endpoint of the release project of that name.

        A value that is not an https:// URL names an endpoint a plugin provides for the
        release project it builds (the reference release's loopback endpoint); beside a
        team's own ``release.project`` it would judge another release's certificate.
        """
        tls = self.http.tls_url
        if tls is None or re.match(r"^https://", tls):
            return
        if tls != self.release.project:
            raise ValueError(
                f"http.tls_url: {tls!r} is not an https:// URL but the endpoint of the release project named "
                f"{tls!r}, and release.project is {self.release.project!r}: set http.tls_url to this release's "
                "own https:// endpoint (or leave it unset)")


# --------------------------------------------------------------------------- loading
def _loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def available_environments(directory: Path) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load_environment(name: str, directory: Path) -> Environment:
    """Load and validate ``directory/name.yaml`` or raise EnvironmentFileError saying why."""
    if not ENV_NAME_RE.match(name):
        raise EnvironmentFileError(f"--env={name!r}: not a valid environment name")
    path = directory / f"{name}.yaml"
    if not safeload.exists_as_link_or_file(path):  # a broken link is named by the loader below
        known = ", ".join(available_environments(directory)) or "none"
        raise EnvironmentFileError(f"{path}: unknown environment {name!r} (available: {known})")
    try:  # one loader for every file a team writes: UTF-8, size, depth, duplicate keys, aliases
        raw = safeload.load_yaml(path)
    except safeload.LoadError as exc:
        raise EnvironmentFileError(str(exc)) from None
    if not isinstance(raw, dict):
        raise EnvironmentFileError(f"{path}: (top level): expected a mapping of settings, got {type(raw).__name__}")
    secrets = find_literal_secrets(raw)
    if secrets:
        raise EnvironmentFileError(
            f"{path}: {secrets[0]}: looks like a literal secret; use a reference "
            f"({REFERENCE_FORMS})"
        )
    raw.setdefault("name", name)
    try:
        env = Environment.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise EnvironmentFileError(f"{path}: {_loc(first['loc'])}: {msg}{more}") from None
    if env.name != name:
        raise EnvironmentFileError(f"{path}: name: is {env.name!r} but the file is for {name!r}")
    today = dt.datetime.now(dt.UTC).date()
    for i, waiver in enumerate(env.waivers):
        if waiver.expiry < today:
            raise EnvironmentFileError(
                f"{path}: waivers.{i} ({waiver.check!r}, approved by {waiver.approver}): expired on "
                f"{waiver.expiry.isoformat()}; renew it with a new approval or remove it")
    for i, entry in enumerate(env.not_applicable):
        if entry.expiry is not None and entry.expiry < today:
            raise EnvironmentFileError(
                f"{path}: not_applicable.{i} ({entry.check!r}): expired on {entry.expiry.isoformat()}; "
                "renew it or remove it")
    return env.model_copy(update={"source_file": str(path)})
