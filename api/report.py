"""A district report a planner can print or forward, in Spanish or English: plots, the top priorities and the
service-continuity evidence as the regulators count it.

Drawn with matplotlib on the server (no script, no CDN): inline SVG in the HTML page, and
the same figures as pages of a PDF, which matplotlib writes without any other library.
"""

from __future__ import annotations

import html
import io
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from api import report_figures
from api.continuity_models import Continuity, SemesterEvidence, SemesterService
from api.land_use import class_name
from api.priorities import Ranked
from api.report_text import WORDS, Language, rules
from api.schemas import CoverageGap

LIMA = ZoneInfo("America/Lima")
SERVICES = ("power", "water")
Table = tuple[list[str], list[list[str]]]  # a header and its rows


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
    continuity: Continuity | None = None
    semester: SemesterEvidence | None = None
    gaps: Sequence[CoverageGap] = ()
    language: Language = "en"

    def place(self, tile_id: str) -> str:
        """The block's name with its tile id, or the tile id alone when nobody named it."""
        name = self.places.get(tile_id)
        return f"{name} ({tile_id})" if name else tile_id

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60

    @property
    def words(self) -> Mapping[str, str]:
        return WORDS[self.language]


def figures(data: ReportData) -> list[Figure]:
    w = data.words
    drawn = [
        report_figures.alerts(data.alerts_per_day, w),
        report_figures.uptime(data.uptime, data.minutes, w),
        report_figures.housing(data.housing, w),
        report_figures.priorities(data.priorities, data.places, w),
    ]
    if data.semester is not None:
        for service in SERVICES:
            figures_: SemesterService = getattr(data.semester, service)
            if figures_.supply_points:
                drawn.append(report_figures.semester(service, figures_, data.semester.semester, w))
    return drawn


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", bbox_inches="tight")
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG sits inside HTML


def _lima(moment: datetime) -> str:
    return f"{moment.astimezone(LIMA):%Y-%m-%d %H:%M}"


def _hours(minutes: float) -> str:
    return f"{minutes / 60:.1f}"


def _summary(data: ReportData) -> list[tuple[str, str]]:
    w = data.words
    alerts = sum(r["alerts"] for r in data.alerts_per_day)
    critical = sum(r["alerts"] for r in data.alerts_per_day if r["severity"] == "critical")
    silent = sum(1 for r in data.uptime if r["minutes"] == 0)
    return [
        (w["period"], w["period_value"].format(start=_lima(data.start), end=_lima(data.end))),
        (w["alerts_opened"], w["alerts_value"].format(alerts=alerts, critical=critical)),
        (w["sensors"], w["sensors_value"].format(sensors=len(data.uptime), silent=silent)),
        (w["tiles_assessed"], str(len(data.housing))),
    ]


def _priorities(data: ReportData) -> Table:
    w = data.words
    rows = [[str(t.rank), data.place(t.tile_id), f"{t.index:.1f}", t.why] for t in data.priorities[:10]]
    return ["#", w["block"], w["index"], w["why"]], rows


def _continuity_tables(data: ReportData, c: Continuity) -> list[tuple[str, Table]]:
    """The period's counts per service, the compensable cuts and the water hours a day, each with a title."""
    w = data.words
    counts = [
        [w[s], str(x.count), _hours(x.total_minutes), _hours(x.longest_minutes),
         str(x.compensable) if s == "power" else "–", str(x.announced)]
        for s in SERVICES for x in [getattr(c, s)]
    ]  # fmt: skip
    head = [w["service"], w["counted"], w["total_hours"], w["longest"], w["compensable"], w["announced"]]
    compensable = [
        [data.place(i.tile_id), i.sensor_id, _lima(i.started), _hours(i.minutes)]
        for i in c.power.interruptions
        if i.compensable
    ]
    supply = [[f"{d.day}", f"{d.hours:.1f}", f"{d.observed_hours:.1f}", str(d.sensors)] for d in c.water_supply]
    return [
        (w["continuity"], (head, counts)),
        (w["compensable_list"], ([w["block"], w["sensor"], w["started"], w["hours"]], compensable)),
        (w["supply"], ([w["day"], w["hours_water"], w["hours_observed"], w["sensors"]], supply)),
    ]


def _semester_tables(data: ReportData, s: SemesterEvidence) -> list[tuple[str, Table]]:
    """Per service: the tolerance in force and the supply points past it (or the five worst when none is set)."""
    w = data.words
    found: list[tuple[str, Table]] = []
    for service in SERVICES:
        x: SemesterService = getattr(s, service)
        t = x.tolerance
        tolerance = w["tolerance_value"].format(n=t.interruptions, h=t.hours) if t else w["not_set"]
        shown = [p for p in x.supply_points if p.over_tolerance] if t else x.supply_points[:5]
        rows = [[w["tolerance"], tolerance, "", ""], [w["over"], str(x.over_tolerance) if t else "–", "", ""]]
        rows += [[p.sensor_id, data.place(p.tile_id), str(p.interruptions), f"{p.hours:.1f}"] for p in shown]
        title = f"{w[service]} · {w['semester'].format(label=s.semester)}"
        found.append((title, ([w["sensor"], w["block"], "N", "D (h)"], rows)))
    return found


def _gaps(data: ReportData) -> Table:
    w = data.words
    rows = [
        [str(g.rank), data.place(g.tile_id) if not g.place else f"{g.place} ({g.tile_id})",
         class_name(g.land_use_class, data.language), f"{g.housing_score:.2f}",
         "–" if g.built_up_fraction is None else f"{100 * g.built_up_fraction:.0f} %",
         "–" if g.nearest_sensor_m is None else f"{g.nearest_sensor_m:.0f}"]
        for g in data.gaps[:10]
    ]  # fmt: skip
    return ["#", w["block"], w["land_use"], w["housing"], w["built_up"], w["nearest"]], rows


def sections(data: ReportData) -> list[tuple[str, Table]]:
    """Every table of the report after the summary, titled, in the report's language."""
    found = [(data.words["priorities"], _priorities(data)), (data.words["gaps"], _gaps(data))]
    if data.continuity is not None:
        found += _continuity_tables(data, data.continuity)
    if data.semester is not None:
        found += _semester_tables(data, data.semester)
    return found


def _html_table(table: Table) -> str:
    e = html.escape
    head, rows = table
    cells = "".join(f"<th>{e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{cells}</tr>{body}</table>"


def to_html(data: ReportData) -> str:
    e = html.escape
    w = data.words
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _summary(data))
    plots = "".join(f"<figure>{_svg(fig)}</figure>" for fig in figures(data))
    tables = "".join(
        f"<h2>{e(title)}</h2>" + (_html_table(table) if table[1] else f"<p>{e(w['none'])}</p>")
        for title, table in sections(data)
    )
    notes = "".join(f"<li>{e(rule)}</li>" for rule in rules(data.language)) if data.continuity else ""
    return f"""<!doctype html>
<html lang="{data.language}"><head><meta charset="utf-8"><title>Vigía: {e(w["title"])} {e(data.district)}</title>
<style>body{{font:14px system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#1d2430}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border-bottom:1px solid #ddd;padding:.3rem .6rem;text-align:left}}
figure{{margin:1.5rem 0}}figure svg{{max-width:100%;height:auto}}</style></head>
<body><h1>{e(w["title"])}: {e(data.district)}</h1><table>{summary}</table>
{plots}
{tables}
<ul>{notes}</ul>
</body></html>"""


def _text_pages(data: ReportData) -> list[str]:
    """The summary and the tables as plain lines, about sixty to an A4 page."""
    w = data.words
    lines = [f"{w['title']}: {data.district}", ""] + [f"{k}: {v}" for k, v in _summary(data)]
    for title, (head, rows) in sections(data):
        lines += ["", title, "   ".join(head)]
        lines += ["   ".join(row) for row in rows] or [w["none"]]
    if data.continuity is not None:
        lines += ["", *rules(data.language)]
    lines = [part for line in lines for part in textwrap.wrap(line, 110) or [""]]
    return ["\n".join(lines[i : i + 60]) for i in range(0, len(lines), 60)]


def to_pdf(data: ReportData) -> bytes:
    out = io.BytesIO()
    with PdfPages(out) as pdf:
        for text in _text_pages(data):
            page = Figure(figsize=(8.27, 11.69))
            ax = page.subplots()
            ax.axis("off")
            ax.text(0, 1, text, va="top", family="DejaVu Sans", fontsize=9)
            pdf.savefig(page)
        for fig in figures(data):
            pdf.savefig(fig, bbox_inches="tight")
    return out.getvalue()
