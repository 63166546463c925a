"""Promotion gate: score the candidate and the live version on the same held-out rows.

A candidate goes live only if its primary metric (average precision for binary models,
macro F1 for multi-class) is at least the live one's plus ``min_delta``. Each version uses its
own recorded decision threshold, so the comparison is of the models as they would run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from monitor.registry import Registry, RegistryError, VersionMeta
from monitor.training.heldout import estimator_outputs, paired_bootstrap, primary_metric

# Shown in this order in the side-by-side table, when present.
METRIC_ORDER = (
    "average_precision",
    "roc_auc",
    "macro_f1",
    "weighted_f1",
    "f1",
    "precision",
    "recall",
    "accuracy",
    "threshold",
    "n",
)


COUNTS = ("n", "positives")  # sizes of the data, not qualities of a model


@dataclass
class Comparison:
    name: str
    candidate_version: str
    live_version: str | None
    metric: str
    candidate: dict[str, float]
    live: dict[str, float] = field(default_factory=dict)
    passed: bool = True
    reason: str = ""
    data: str = ""
    interval: tuple[float, float] | None = None  # 95 % bootstrap interval of candidate - live

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """The side-by-side comparison printed by ``shopmon model promote``."""
        keys = [k for k in METRIC_ORDER if k in self.candidate or k in self.live]
        keys += sorted((set(self.candidate) | set(self.live)) - set(keys))
        cand_head = f"candidate {self.candidate_version}"
        live_head = f"live {self.live_version or '(none)'}"
        width = max(len(k) for k in keys + ["metric"]) + 4  # room for the " *" mark
        cw = max(len(cand_head), 10) + 2
        lines = [f"held-out data: {self.data}", f"{'metric':<{width}}{cand_head:<{cw}}{live_head:<{cw}}change"]
        for k in keys:
            c, v = self.candidate.get(k), self.live.get(k)
            mark = " *" if k == self.metric else ""
            diff = f"{c - v:+.4f}" if c is not None and v is not None and k not in COUNTS else ""
            lines.append(f"{k + mark:<{width}}{_fmt(c):<{cw}}{_fmt(v):<{cw}}{diff}")
        if self.interval is not None:
            lo, hi = self.interval
            lines.append(f"{self.metric} change, 95% paired bootstrap interval: [{lo:+.4f}, {hi:+.4f}]"
                         + ("" if lo > 0 or hi < 0 else " (includes 0: the difference may be noise)"))
        lines.append(f"* compared metric. Verdict: {'PASS' if self.passed else 'REFUSED'} ({self.reason})")
        return "\n".join(lines)


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if float(v).is_integer() and abs(v) > 1 else f"{v:.4f}"


def features_of(frame: Any, meta: VersionMeta) -> Any:
    """What the model takes: the columns it recorded (``params.input_columns``), else the text."""
    cols = meta.params.get("input_columns")
    if cols:
        numeric = set(meta.params.get("numeric_columns") or [])
        absent = [c for c in cols if c not in frame.columns and c in numeric]
        if absent:
            # As in detection: a numeric column the rows do not carry is unknown (imputed).
            frame = frame.assign(**{c: float("nan") for c in absent})
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise RegistryError(f"held-out data lacks column(s) {', '.join(missing)} needed by {meta.version}")
        return frame[cols[0]].astype(str).tolist() if cols == ["text"] else frame[cols]
    if "text" in frame.columns:
        return frame["text"].astype(str).tolist()
    return frame.drop(columns=["label"])


def _threshold(meta: VersionMeta) -> float | None:
    # Binary models record the positive-class threshold under "1" / "positive" / their name.
    for key in ("1", "positive", "True", meta.name):
        if key in meta.thresholds:
            return float(meta.thresholds[key])
    return None


def compare(
    candidate: Any,
    candidate_meta: VersionMeta,
    live: Any | None,
    live_meta: VersionMeta | None,
    frame: Any,
    *,
    data_name: str = "",
    precision_target: float = 0.9,
    min_delta: float = 0.0,
) -> Comparison:
    """Evaluate both estimators on ``frame`` (a DataFrame with a ``label`` column)."""
    if "label" not in frame.columns or len(frame) == 0:
        raise RegistryError(f"held-out data {data_name or ''} has no rows with a 'label' column".replace("  ", " "))
    y = frame["label"].tolist()
    try:
        cand_out = estimator_outputs(
            candidate, features_of(frame, candidate_meta), y,
            threshold=_threshold(candidate_meta), precision_target=precision_target,
        )
        cand = cand_out.metrics
    except ValueError as exc:
        raise RegistryError(f"cannot score {candidate_meta.version} on the held-out data: {exc}") from None
    metric = primary_metric(cand)
    result = Comparison(
        name=candidate_meta.name,
        candidate_version=candidate_meta.version,
        live_version=live_meta.version if live_meta else None,
        metric=metric,
        candidate=cand,
        data=f"{data_name} ({len(frame)} rows)",
    )
    if live is None or live_meta is None:
        result.reason = "no live version to compare with"
        return result
    try:
        live_out = estimator_outputs(
            live, features_of(frame, live_meta), y,
            threshold=_threshold(live_meta), precision_target=precision_target,
        )
        result.live = live_out.metrics
    except ValueError as exc:
        raise RegistryError(f"cannot score live {live_meta.version} on the held-out data: {exc}") from None
    c, v = cand[metric], result.live.get(metric)
    if v is None:
        result.reason = f"live version has no {metric} on this data"
        return result
    result.interval = paired_bootstrap(cand_out, live_out, metric)
    result.passed = c >= v + min_delta
    op = ">=" if result.passed else "<"
    result.reason = f"{metric} {c:.4f} {op} live {v:.4f}" + (f" + {min_delta:g}" if min_delta else "")
    return result


def gate(
    registry: Registry,
    name: str,
    version: str,
    *,
    frame: Any | None = None,
    data_name: str | None = None,
    precision_target: float = 0.9,
    min_delta: float = 0.0,
) -> Comparison:
    """Compare ``version`` with the live version of ``name``.

    Held-out rows come from ``frame`` when given (a labeled file), else from the rows the
    trainer stored with the candidate; without either there is nothing fair to compare on.
    """
    candidate, cand_meta = registry.load(name, version)
    # A broken or deleted alias compares as none: promoting (with --force) is how a person repairs it.
    live_version = registry.alias_or_none(name)
    live, live_meta = (None, None)
    if live_version is not None and live_version != version:
        live, live_meta = registry.load(name, live_version)
    if frame is None:
        frame = registry.holdout(name, version)
        data_name = f"held-out rows stored with {version}"
        if frame is None and live is not None:
            raise RegistryError(
                f"{version} has no stored held-out data to compare with live {live_version}; "
                "pass --data FILE (CSV/JSONL with text and label columns)"
            )
    if frame is None:  # no live version either: nothing to beat
        return Comparison(name, version, None, "", {}, passed=True, reason="no live version to compare with")
    return compare(
        candidate, cand_meta, live, live_meta, frame,
        data_name=data_name or "given data", precision_target=precision_target, min_delta=min_delta,
    )
