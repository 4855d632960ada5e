"""A district report a planner can print or forward: four plots and the top priorities.

Drawn with matplotlib on the server (no script, no CDN): inline SVG in the HTML page, and
the same figures as pages of a PDF, which matplotlib writes without any other library.
Figures are made with `Figure` directly, not pyplot: no global state, so requests drawing
at the same time on worker threads do not trip over each other.
"""

from __future__ import annotations

import html
import io
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from api.priorities import Ranked

SEVERITY_COLOURS = {"critical": "#c62828", "warning": "#ef8f00", "info": "#607d8b"}


@dataclass(frozen=True)
class ReportData:
    district: str
    start: datetime
    end: datetime
    alerts_per_day: Sequence[dict[str, Any]]
    uptime: Sequence[dict[str, Any]]  # sensor_id, sensor_type, minutes
    housing: Sequence[dict[str, Any]]  # tile_id, housing_score, land_use_class
    priorities: Sequence[Ranked]
    places: Mapping[str, str] = field(default_factory=dict)  # tile id -> how people name the block

    def place(self, tile_id: str) -> str:
        """The block's name with its tile id, or the tile id alone when nobody named it."""
        name = self.places.get(tile_id)
        return f"{name} ({tile_id})" if name else tile_id

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


def _alerts_figure(data: ReportData) -> Figure:
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    days = sorted({row["day"] for row in data.alerts_per_day})
    counts: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in data.alerts_per_day:
        counts[row["severity"]][row["day"]] = row["alerts"]
    bottom = [0] * len(days)
    for severity in ("info", "warning", "critical"):
        heights = [counts[severity].get(day, 0) for day in days]
        ax.bar(days, heights, bottom=bottom, color=SEVERITY_COLOURS[severity], label=severity, width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title("Alerts opened per day")
    ax.set_ylabel("alerts")
    if days:
        ax.legend(loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no alerts in the period", ha="center", va="center", transform=ax.transAxes)
    fig.autofmt_xdate()
    return fig


def _uptime_figure(data: ReportData) -> Figure:
    rows = sorted(data.uptime, key=lambda r: r["minutes"])[:30]  # the thirty least heard from
    fig = Figure(figsize=(8, max(2.0, 0.25 * len(rows) + 1)))
    ax = fig.subplots()
    shares = [100 * r["minutes"] / data.minutes for r in rows]
    ax.barh([r["sensor_id"] for r in rows], shares, color=["#c62828" if s < 90 else "#2e7d32" for s in shares])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of minutes with a reading")
    ax.set_title("Sensor uptime (least heard from first)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def _housing_figure(data: ReportData) -> Figure:
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    scores = [row["housing_score"] for row in data.housing]
    ax.hist(scores, bins=[i / 10 for i in range(11)], color="#8d6e63", edgecolor="white")
    ax.set_xlim(0, 1)
    ax.set_title(f"Housing score of {len(scores)} assessed tiles (0 sound, 1 precarious)")
    ax.set_ylabel("tiles")
    return fig


def _priorities_figure(data: ReportData) -> Figure:
    top = list(data.priorities[:10])[::-1]
    fig = Figure(figsize=(8, max(2.0, 0.35 * len(top) + 1)))
    ax = fig.subplots()
    ax.barh([data.places.get(t.tile_id) or t.tile_id for t in top], [t.index for t in top], color="#12355b")
    ax.set_xlim(0, 100)
    ax.set_title("Where to act first (priority index)")
    fig.tight_layout()
    return fig


def figures(data: ReportData) -> list[Figure]:
    return [_alerts_figure(data), _uptime_figure(data), _housing_figure(data), _priorities_figure(data)]


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG sits inside HTML


def _summary(data: ReportData) -> list[tuple[str, str]]:
    alerts = sum(r["alerts"] for r in data.alerts_per_day)
    critical = sum(r["alerts"] for r in data.alerts_per_day if r["severity"] == "critical")
    silent = sum(1 for r in data.uptime if r["minutes"] == 0)
    return [
        ("Period", f"{data.start:%Y-%m-%d %H:%M} to {data.end:%Y-%m-%d %H:%M} UTC"),
        ("Alerts opened", f"{alerts} ({critical} critical)"),
        ("Sensors", f"{len(data.uptime)} ({silent} silent all period)"),
        ("Tiles assessed", str(len(data.housing))),
    ]


def to_html(data: ReportData) -> str:
    e = html.escape
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _summary(data))
    ranked = "".join(
        f"<tr><td>{t.rank}</td><td>{e(data.place(t.tile_id))}</td><td>{t.index:.1f}</td><td>{e(t.why)}</td></tr>"
        for t in data.priorities[:10]
    )
    plots = "".join(f"<figure>{_svg(fig)}</figure>" for fig in figures(data))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigía report: {e(data.district)}</title>
<style>body{{font:14px system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1d2430}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}}
figure{{margin:1.5rem 0}}figure svg{{max-width:100%;height:auto}}</style></head>
<body><h1>District report: {e(data.district)}</h1><table>{rows}</table>
{plots}
<h2>Top priorities</h2><table><tr><th>#</th><th>Block</th><th>Index</th><th>Why</th></tr>{ranked}</table>
</body></html>"""


def to_pdf(data: ReportData) -> bytes:
    out = io.BytesIO()
    with PdfPages(out) as pdf:
        cover = Figure(figsize=(8.27, 11.69))
        ax = cover.subplots()
        ax.axis("off")
        lines = [f"District report: {data.district}", ""] + [f"{k}: {v}" for k, v in _summary(data)]
        lines += ["", "Top priorities:"] + [
            f"{t.rank}. {data.place(t.tile_id)}  {t.index:.1f}  {t.why}"[:110] for t in data.priorities[:10]
        ]
        ax.text(0, 1, "\n".join(lines), va="top", family="DejaVu Sans", fontsize=9)
        pdf.savefig(cover)
        for fig in figures(data):
            pdf.savefig(fig, bbox_inches="tight")
    return out.getvalue()
