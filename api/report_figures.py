"""The report's plots, drawn with matplotlib's `Figure` directly, not pyplot: no global state, so requests
drawing at the same time on worker threads do not trip over each other."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from matplotlib.figure import Figure

from api.continuity_models import SemesterService
from api.priorities import Ranked

SEVERITY_COLOURS = {"critical": "#c62828", "warning": "#ef8f00", "info": "#607d8b"}
OVER, WITHIN = "#c62828", "#2e7d32"


def alerts(alerts_per_day: Sequence[dict[str, Any]], words: Mapping[str, str]) -> Figure:
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    days = sorted({row["day"] for row in alerts_per_day})
    counts: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in alerts_per_day:
        counts[row["severity"]][row["day"]] = row["alerts"]
    bottom = [0] * len(days)
    for severity in ("info", "warning", "critical"):
        heights = [counts[severity].get(day, 0) for day in days]
        ax.bar(days, heights, bottom=bottom, color=SEVERITY_COLOURS[severity], label=words[severity], width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(words["alerts_per_day"])
    ax.set_ylabel(words["alerts_axis"])
    if days:
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, words["no_alerts"], ha="center", va="center", transform=ax.transAxes)
    fig.autofmt_xdate()
    return fig


def uptime(rows: Sequence[dict[str, Any]], minutes: float, words: Mapping[str, str]) -> Figure:
    rows = sorted(rows, key=lambda r: r["minutes"])[:30]  # the thirty least heard from
    fig = Figure(figsize=(8, max(2.0, 0.25 * len(rows) + 1)))
    ax = fig.subplots()
    shares = [100 * r["minutes"] / minutes for r in rows]
    ax.barh([r["sensor_id"] for r in rows], shares, color=[OVER if s < 90 else WITHIN for s in shares])
    ax.set_xlim(0, 100)
    ax.set_xlabel(words["uptime_axis"])
    ax.set_title(words["uptime_title"])
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def housing(rows: Sequence[dict[str, Any]], words: Mapping[str, str]) -> Figure:
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    scores = [row["housing_score"] for row in rows]
    ax.hist(scores, bins=[i / 10 for i in range(11)], color="#8d6e63", edgecolor="white")
    ax.set_xlim(0, 1)
    ax.set_title(words["housing_title"].format(n=len(scores)))
    ax.set_ylabel(words["housing_axis"])
    return fig


def priorities(ranked: Sequence[Ranked], places: Mapping[str, str], words: Mapping[str, str]) -> Figure:
    top = list(ranked[:10])[::-1]
    fig = Figure(figsize=(8, max(2.0, 0.35 * len(top) + 1)))
    ax = fig.subplots()
    ax.barh([places.get(t.tile_id) or t.tile_id for t in top], [t.index for t in top], color="#12355b")
    ax.set_xlim(0, 100)
    ax.set_title(words["priorities_title"])
    fig.tight_layout()
    return fig


def semester(service: str, figures: SemesterService, label: str, words: Mapping[str, str]) -> Figure:
    """Each supply point's hours of interruption, red past the tolerance, with the tolerance's D as a line."""
    points = figures.supply_points[:30][::-1]
    fig = Figure(figsize=(8, max(2.0, 0.25 * len(points) + 1.2)))
    ax = fig.subplots()
    ax.barh(
        [p.sensor_id for p in points], [p.hours for p in points],
        color=[OVER if p.over_tolerance else WITHIN for p in points],
    )  # fmt: skip
    if figures.tolerance is not None:
        ax.axvline(figures.tolerance.hours, color="#1d2430", linestyle="--", linewidth=1)
        ax.text(figures.tolerance.hours, 1.0, f" D ≤ {figures.tolerance.hours:g} h", transform=ax.get_xaxis_transform(),
                va="bottom", fontsize=8)  # fmt: skip
    ax.set_xlabel(words["semester_axis"])
    ax.set_title(words["semester_figure"].format(service=words[service], label=label))
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig
