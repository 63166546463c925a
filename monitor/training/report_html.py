"""The HTML of the evaluation report: tables, the most-wrong examples and the page around them.

Everything printed is escaped: example texts are reviews, written by anyone.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np


def img(b64: str, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{b64}">'


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def cells(cm: list[list[int]]) -> dict[str, int]:
    """A binary confusion matrix [[tn, fp], [fn, tp]] as named counts, so the table states them."""
    (tn, fp), (fn, tp) = cm
    return {"true negatives": tn, "false positives": fp, "false negatives": fn, "true positives": tp}


def evaluation_section(key: str, heading: str, metrics: dict[str, Any]) -> str:
    """One evaluation's numbers under its own name (held-out and cross-validation never share a table)."""
    rows: list[tuple[str, Any]] = []
    for name, value in metrics.items():
        if name == "confusion_matrix" and np.shape(value) == (2, 2):
            rows += list(cells(value).items())
        elif isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            continue
        elif isinstance(value, int | np.integer) or (name in ("n", "positives") and float(value).is_integer()):
            rows.append((name, int(value)))
        else:
            rows.append((name, float(value)))
    return f'<section id="{key}"><h2>{html.escape(heading)}</h2>{table(["metric", "value"], rows)}</section>'


def most_wrong(
    y: np.ndarray, s: np.ndarray, pred: np.ndarray, cls: list[Any], texts: list[str] | None, binary: bool, n: int
) -> str:
    if binary:
        # How far the score sits from the truth: 1.0 = confidently wrong.
        error = np.abs(y - s)
        rows_idx = [i for i in np.argsort(-error) if pred[i] != y[i]][:n]
        rows = [(i, y[i], f"{s[i]:.3f}", _snippet(texts, i)) for i in rows_idx]
        headers = ["row", "true", "score", "text"]
    else:
        col = {str(c): i for i, c in enumerate(cls)}
        p_true = np.array([s[i, col[str(y[i])]] if str(y[i]) in col else 0.0 for i in range(y.size)])
        rows_idx = [i for i in np.argsort(p_true) if pred[i] != y[i]][:n]
        rows = [(i, y[i], pred[i], f"{p_true[i]:.3f}", _snippet(texts, i)) for i in rows_idx]
        headers = ["row", "true", "predicted", "p(true)", "text"]
    if not rows:
        return "<p>The model got every held-out example right.</p>"
    return table(headers, rows)


def _snippet(texts: list[str] | None, i: int, limit: int = 240) -> str:
    if texts is None:
        return ""
    t = " ".join(str(texts[i]).split())
    return t if len(t) <= limit else t[: limit - 1] + "…"


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}} td,th{{border:1px solid #ccc;padding:.25em .6em;
text-align:left;vertical-align:top}} th{{background:#f3f3f3}} section{{margin-top:2em}}
img{{max-width:100%}} .meta{{color:#666}}
</style></head><body>
{body}
</body></html>
"""
