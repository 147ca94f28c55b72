"""Kayenta's remote judge: ``POST /judge`` with a ``RemoteJudgeRequest``.

Kayenta (``kayenta-judge``'s ``RemoteJudgeRequest``) sends ``canaryConfig``,
``scoreThresholds`` (``pass``, ``marginal``) and ``metricSetPairList``: one entry per metric
with ``name``, ``id``, ``tags`` and ``values: {"control": [...], "experiment": [...]}``. It
expects a ``CanaryJudgeResult``: ``judgeName``, ``results`` (per metric ``name``, ``id``,
``classification`` Pass/High/Low/Nodata/Error, ``classificationReason``, ``groups``,
``critical``, metadata), ``groupScores`` and ``score`` (``score``, ``classification``,
``classificationReason``). This module only translates; the statistics and the score are
:mod:`goldgate.criteria.kayenta`. Per-metric settings are read from the canary config's
``metrics[].analysisConfigurations.canary`` (``direction``, ``critical``,
``effectSize.allowedIncrease`` / ``allowedDecrease``) as Kayenta's own judge reads them.
"""

from __future__ import annotations

from typing import Any

from goldgate.config import Environment
from goldgate.criteria.kayenta import (
    MetricResult,
    classify_metric,
    kayenta_label,
    score_label,
    score_metrics,
)
from goldgate.judge.runs import BadRequestError

__all__ = ["JUDGE_NAME", "judge_request"]

JUDGE_NAME = "goldgate-remote-judge-v1"


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequestError(field, f"must be a number, got {type(value).__name__}")
    return float(value)


def _metric_configs(config: Any) -> dict[str, dict[str, Any]]:
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise BadRequestError("canaryConfig", f"must be an object, got {type(config).__name__}")
    metrics = config.get("metrics") or []
    if not isinstance(metrics, list):
        raise BadRequestError("canaryConfig.metrics", "must be a list")
    return {str(m.get("name")): m for m in metrics if isinstance(m, dict) and m.get("name")}


def judge_request(env: Environment, body: Any) -> dict[str, Any]:
    """A CanaryJudgeResult for a RemoteJudgeRequest; BadRequestError (400) naming the field."""
    if not isinstance(body, dict):
        raise BadRequestError("body", f"must be a JSON object, got {type(body).__name__}")
    pairs = body.get("metricSetPairList")
    if not isinstance(pairs, list):
        raise BadRequestError("metricSetPairList", "required (a list of metric set pairs)")
    thresholds = body.get("scoreThresholds")
    if not isinstance(thresholds, dict):
        raise BadRequestError("scoreThresholds", "required (an object with pass and marginal)")
    pass_t = _number(thresholds.get("pass"), "scoreThresholds.pass")
    marginal_t = _number(thresholds.get("marginal"), "scoreThresholds.marginal")
    config = body.get("canaryConfig")
    configs = _metric_configs(config)
    weights = ((config or {}).get("classifier") or {}).get("groupWeights") if isinstance(config, dict) else None
    results, out = [], []
    for i, pair in enumerate(pairs):
        where = f"metricSetPairList[{i}]"
        if not isinstance(pair, dict):
            raise BadRequestError(where, "must be an object")
        name = pair.get("name")
        if not isinstance(name, str) or not name:
            raise BadRequestError(f"{where}.name", "required")
        values = pair.get("values")
        if not isinstance(values, dict):
            raise BadRequestError(f"{where}.values", "required (an object with control and experiment lists)")
        series = {}
        for side in ("control", "experiment"):
            v = values.get(side, [])
            if not isinstance(v, list):
                raise BadRequestError(f"{where}.values.{side}", "must be a list of numbers")
            series[side] = v
        metric_cfg = configs.get(name, {})
        analysis = metric_cfg.get("analysisConfigurations") or {}
        canary_cfg = (analysis.get("canary") or {}) if isinstance(analysis, dict) else None
        effect = (canary_cfg.get("effectSize") or {}) if isinstance(canary_cfg, dict) else None
        if not isinstance(canary_cfg, dict) or not isinstance(effect, dict):
            raise BadRequestError(f"canaryConfig.metrics[{name}].analysisConfigurations", "must be objects")
        groups = tuple(str(g) for g in (metric_cfg.get("groups") or []))
        critical = bool(canary_cfg.get("critical", False))
        verdict = classify_metric(
            series["control"], series["experiment"], confidence=env.judge.kayenta_confidence,
            min_points=env.judge.kayenta_min_points, direction=str(canary_cfg.get("direction", "either")),
            allowed_increase=_number(effect.get("allowedIncrease", 1.0), f"canaryConfig.metrics[{name}].effectSize"),
            allowed_decrease=_number(effect.get("allowedDecrease", 1.0), f"canaryConfig.metrics[{name}].effectSize"),
            criterion=name)
        results.append(MetricResult(verdict, groups, critical))
        details = dict(verdict.evidence[0].details) if verdict.evidence else {}
        out.append({"name": name, "id": str(pair.get("id") or name), "tags": pair.get("tags") or {},
                    "classification": kayenta_label(verdict), "classificationReason": verdict.reason,
                    "groups": list(groups), "critical": critical,
                    "experimentMetadata": {"count": details.get("experiment_points"),
                                           "mean": details.get("experiment_mean")},
                    "controlMetadata": {"count": details.get("control_points"), "mean": details.get("control_mean")},
                    "resultMetadata": {"ratio": verdict.observed if isinstance(verdict.observed, float) else None,
                                       "pValue": details.get("p_value"), "threshold": verdict.threshold}})
    score = score_metrics(results, pass_threshold=pass_t, marginal_threshold=marginal_t,
                          group_weights=weights if isinstance(weights, dict) else None)
    group_scores = score.evidence[0].details.get("groups", {}) if score.evidence else {}
    label = score_label(score)
    return {
        "judgeName": JUDGE_NAME,
        "results": out,
        "groupScores": [{"name": g, "score": s, "classification": "", "classificationReason": ""}
                        for g, s in group_scores.items()],
        "score": {"score": score.observed if isinstance(score.observed, float) else 0.0,
                  "classification": label, "classificationReason": score.reason},
    }
