"""The report's charts as PNG images, drawn with matplotlib from the report's own figures.

No pyplot: figures are built directly on the Agg canvas, so nothing global (backend, open
figures) changes in a process that also sends mail. Chinese words need a CJK font
(monitor.fonts); without one the email says how to install it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from alerts.i18n import LABELS, REPORT, STRINGS
from monitor.fonts import cjk_font, font_families

CAUSE_COLOURS = ("#d9480f", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#5f3dc4", "#868e96")
DPI = 100


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    png: bytes


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _short(day: str) -> str:
    return date.fromisoformat(day).strftime("%m-%d")


def bad_reviews_by_cause(daily: dict[str, dict[str, int]], language: str) -> bytes:
    words, names = REPORT[language], LABELS[language]
    days = list(daily)
    causes = sorted({c for counts in daily.values() for c in counts}, key=lambda c: -sum(d.get(c, 0) for d in daily.values()))
    fig = Figure(figsize=(7.2, 2.8))
    ax = fig.add_subplot()
    bottom = [0] * len(days)
    for i, cause in enumerate(causes):
        values = [daily[d].get(cause, 0) for d in days]
        ax.bar([_short(d) for d in days], values, bottom=bottom, label=names.get(cause, cause),
               color=CAUSE_COLOURS[i % len(CAUSE_COLOURS)])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel(words["axis_bad"])
    ax.yaxis.get_major_locator().set_params(integer=True)
    if causes:
        ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(words["chart_bad"], fontsize=10)
    return _png(fig)


def rating_trend(trend: list[dict[str, Any]], language: str) -> bytes:
    words = REPORT[language]
    fig = Figure(figsize=(7.2, 2.8))
    ax = fig.add_subplot()
    x = list(range(len(trend)))
    # Days without reviews are skipped, not drawn as gaps: the line joins the days that have a rating.
    for key, label, style in (
        ("avg_rating", words["all_reviews"], {"marker": "o", "linewidth": 2.5, "color": "#adb5bd"}),
        ("adjusted_avg", words["adjusted"], {"marker": "s", "linewidth": 1.5, "linestyle": "--", "color": "#1c7ed6"}),
    ):
        points = [(i, p[key]) for i, p in enumerate(trend) if p[key] is not None]
        ax.plot([i for i, _ in points], [v for _, v in points], label=label, markersize=4, **style)
    first_current = next((i for i, p in enumerate(trend) if p["current"]), len(trend))
    if first_current:
        ax.axvspan(-0.5, first_current - 0.5, color="#f1f3f5", label=STRINGS[language]["previous"])
    ax.set_xticks(x, [_short(p["day"]) for p in trend], rotation=45, fontsize=7)
    ax.set_ylim(0.8, 5.2)
    ax.set_xlim(-0.5, len(trend) - 0.5)
    ax.set_ylabel(words["axis_rating"])
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(words["chart_rating"], fontsize=10)
    return _png(fig)


def response_times(waits_minutes: list[float], language: str) -> bytes:
    words = REPORT[language]
    fig = Figure(figsize=(7.2, 2.4))
    ax = fig.add_subplot()
    hours = [w / 60 for w in waits_minutes]
    edges = [0, 1, 2, 4, 8, 12, 24, 48, 72, max(96.0, max(hours, default=0) + 1)]
    counts = [sum(1 for h in hours if lo <= h < hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-2], edges[1:-1], strict=True)] + [f">{edges[-2]:g}"]
    ax.bar(labels, counts, color="#1c7ed6")
    ax.set_xlabel(words["axis_hours"])
    ax.set_ylabel(words["axis_cases"])
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(words["chart_response"], fontsize=10)
    return _png(fig)


def report_charts(payload: dict[str, Any], language: str) -> tuple[list[Chart], bool]:
    """The charts for one report payload, and whether Chinese text had no font to draw with."""
    missing = cjk_font() is None and language == "zh"
    words = REPORT[language]
    with matplotlib.rc_context({"font.family": font_families(), "axes.spines.top": False, "axes.spines.right": False}):
        charts = [Chart("bad-by-cause", words["chart_bad"], bad_reviews_by_cause(payload.get("daily_bad_by_cause", {}), language))]
        if payload.get("rating", {}).get("trend"):
            charts.append(Chart("rating-trend", words["chart_rating"], rating_trend(payload["rating"]["trend"], language)))
        if payload.get("response", {}).get("waits_minutes"):
            charts.append(Chart("response-times", words["chart_response"],
                                response_times(payload["response"]["waits_minutes"], language)))
    return charts, missing
