"""The model card written beside every version (MODEL_CARD.md) unless the trainer supplies one."""

from __future__ import annotations

from monitor.registry.layout import VersionMeta


def default_card(meta: VersionMeta) -> str:
    lines = [
        f"# Model card: {meta.name} ({meta.version})",
        "",
        *([f"**WARNING:** {meta.params['threshold_warning']}", ""] if meta.params.get("threshold_warning") else []),
        f"- Created: {meta.created_at}",
        f"- Training data: `{meta.data_fingerprint}`",
        f"- Held-out data: `{meta.holdout_fingerprint or 'not stored'}`",
        "- Libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(meta.libraries.items())),
        "",
        "## Parameters",
        "",
    ]
    lines += [f"- `{k}`: {v}" for k, v in sorted(meta.params.items())] or ["- (none recorded)"]
    lines += ["", "## Thresholds", ""]
    lines += [f"- `{k}`: {v:.4f}" for k, v in sorted(meta.thresholds.items())] or ["- (none recorded)"]
    lines += ["", "## Metrics (held-out)", ""]
    flat = {k: v for k, v in sorted(meta.metrics.items()) if isinstance(v, int | float)}
    lines += [f"- `{k}`: {v:.4f}" for k, v in flat.items()] or ["- (none recorded)"]
    lines += [
        "",
        "## Intended use",
        "",
        "Ranks reviews for an analyst to check; it does not decide on its own. Scores near the",
        "threshold are uncertain and are what `shopmon labels queue` asks people to label first.",
        "",
    ]
    return "\n".join(lines)
