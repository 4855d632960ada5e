"""A district's evidence gathered from the database for the API, the page and the report: service continuity
and coverage gaps.

Interruptions come from the sensors' one-minute windows (`api/continuity.py` says how each
service is counted). A programmed cut announced 48 hours ahead is listed beside the others
but neither counted nor compensable, once an operator records when it was announced; water
continuity is also given as hours of supply a day, as SUNASS reports it. Over a semester,
each sensor's number and hours of interruptions are set beside the tolerance an operator
set (`api/semester.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import mercantile
from psycopg import AsyncConnection

from api import continuity, coverage, repo, semester
from api.continuity_models import (
    Continuity,
    Cut,
    DailySupply,
    InterruptionOut,
    SemesterEvidence,
    SemesterService,
    ServiceSummary,
    SupplyPointOut,
    Tolerance,
)
from api.schemas import CoverageGap
from vigia.tiles import parent_tile, parse_tile_id

LIMA = ZoneInfo("America/Lima")
Samples = list[tuple[str, str, datetime, float]]


@dataclass(frozen=True)
class Found:
    """One sensor's interruption, and whether it was a programmed cut announced in time."""

    sensor_id: str
    tile_id: str
    span: continuity.Interruption
    programmed: bool


def _found(
    samples: Samples, standard: continuity.Standard, service: continuity.Service, end: datetime,
    cuts: Sequence[continuity.Announcement],
) -> tuple[list[Found], dict[str, str]]:  # fmt: skip
    """Every sensor's interruptions, and each sensor's tile (also for sensors that had none)."""
    found: list[Found] = []
    tiles: dict[str, str] = {}
    for (sensor_id, tile_id), rows in groupby(samples, key=lambda row: (row[0], row[1])):
        tiles[sensor_id] = tile_id
        for span in continuity.interruptions(((r[2], r[3]) for r in rows), standard, period_end=end):
            found.append(Found(sensor_id, tile_id, span, continuity.announced(span, service, cuts)))
    return found, tiles


def _minutes(span: timedelta) -> float:
    return round(span.total_seconds() / 60, 1)


def _summary(found: list[Found], sensors: int) -> ServiceSummary:
    counted = continuity.summarise(f.span for f in found if not f.programmed)
    return ServiceSummary(
        count=counted.count,
        total_minutes=_minutes(counted.total),
        longest_minutes=_minutes(counted.longest),
        compensable=counted.compensable,
        announced=sum(1 for f in found if f.programmed),
        sensors=sensors,
        interruptions=[
            InterruptionOut(
                sensor_id=f.sensor_id, tile_id=f.tile_id, started=f.span.started, ended=f.span.ended,
                minutes=_minutes(f.span.duration), unobserved_minutes=_minutes(f.span.unobserved),
                compensable=f.span.compensable and not f.programmed, announced=f.programmed,
            )
            for f in sorted(found, key=lambda f: f.span.started)
        ],
    )  # fmt: skip


def _daily_supply(samples: Samples, standard: continuity.Standard) -> list[DailySupply]:
    """Each Lima day's mean hours of water over the sensors that reported that day."""
    per_day: dict[Any, list[tuple[float, float]]] = {}
    for _, rows in groupby(samples, key=lambda row: row[0]):
        for day, hours in continuity.supply_hours(((r[2], r[3]) for r in rows), standard, zone=LIMA).items():
            per_day.setdefault(day, []).append(hours)
    return [
        DailySupply(
            day=day,
            hours=round(sum(h[0] for h in seen) / len(seen), 2),
            observed_hours=round(sum(h[1] for h in seen) / len(seen), 2),
            sensors=len(seen),
        )
        for day, seen in sorted(per_day.items())
    ]


def rule(standard: continuity.Standard) -> str:
    minutes = standard.counted_from.total_seconds() / 60
    text = f"{standard.metric} below {standard.off_below:g} for a whole minute, counted from {minutes:g} minutes"
    if standard.compensable_after is not None:
        text += f"; over {standard.compensable_after.total_seconds() / 3600:g} hours is compensable"
    return text + "; programmed cuts announced 48 hours ahead are listed, not counted"


async def _cuts(conn: AsyncConnection, district: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return await repo.announced_cuts(conn, district=district, start=start - timedelta(days=1), end=end)


def _announcements(rows: list[dict[str, Any]]) -> list[continuity.Announcement]:
    return [
        continuity.Announcement(continuity.Service(r["service"]), r["starts_at"], r["ends_at"], r["announced_at"])
        for r in rows
    ]


async def period(conn: AsyncConnection, district: str, start: datetime, end: datetime) -> Continuity:
    """The district's interruptions of both services between `start` and `end`."""
    rows = await _cuts(conn, district, start, end)
    cuts = _announcements(rows)
    summaries: dict[str, ServiceSummary] = {}
    supply: list[DailySupply] = []
    for service, standard in continuity.STANDARDS.items():
        samples = await repo.service_samples(conn, district=district, metric=standard.metric, start=start, end=end)
        found, tiles = _found(samples, standard, service, end, cuts)
        summaries[service.value] = _summary(found, len(tiles))
        if service is continuity.Service.WATER:
            supply = _daily_supply(samples, standard)
    return Continuity(
        district=district, start=start, end=end,
        rules={service.value: rule(standard) for service, standard in continuity.STANDARDS.items()},
        cuts=[Cut(**r) for r in rows], water_supply=supply, **summaries,
    )  # fmt: skip


def _semester_service(found: list[Found], tiles: dict[str, str], saved: dict[str, Any] | None) -> SemesterService:
    tolerance = semester.Tolerance(saved["interruptions"], saved["hours"]) if saved else None
    counted = [f for f in found if not f.programmed]
    spans: dict[str, list[timedelta]] = {sensor_id: [] for sensor_id in tiles}
    for f in counted:
        spans[f.sensor_id].append(f.span.duration)
    points = [
        semester.SupplyPoint(
            sensor_id, tile_id, interruptions=len(spans[sensor_id]),
            hours=round(sum(spans[sensor_id], timedelta()).total_seconds() / 3600, 2),
        )
        for sensor_id, tile_id in tiles.items()
    ]  # fmt: skip
    summary = continuity.summarise(f.span for f in counted)
    ranked = semester.worst_first(points, tolerance)
    return SemesterService(
        count=summary.count,
        total_hours=round(summary.total.total_seconds() / 3600, 2),
        compensable=summary.compensable,
        announced=len(found) - len(counted),
        tolerance=Tolerance(**saved) if saved else None,
        over_tolerance=sum(1 for p in points if p.exceeds(tolerance)),
        supply_points=[SupplyPointOut(**vars(p), over_tolerance=p.exceeds(tolerance)) for p in ranked],
    )


async def semester_figures(
    conn: AsyncConnection, district: str, period_: semester.Semester, now: datetime
) -> SemesterEvidence:
    """The NTCSE's indicators per supply point over one semester, beside the district's tolerances."""
    end = period_.until(now)
    rows = await _cuts(conn, district, period_.start, end)
    cuts = _announcements(rows)
    saved = await repo.tolerances(conn, district=district)
    services: dict[str, SemesterService] = {}
    for service, standard in continuity.STANDARDS.items():
        samples = await repo.service_samples(
            conn, district=district, metric=standard.metric, start=period_.start, end=end
        )
        found, tiles = _found(samples, standard, service, end, cuts)
        services[service.value] = _semester_service(found, tiles, saved.get(service.value))
    return SemesterEvidence(district=district, semester=period_.label, start=period_.start, end=end, **services)


async def coverage_gaps(
    conn: AsyncConnection, district: str, *, imagery_zoom: int, tile_zoom: int
) -> list[CoverageGap] | None:
    """Every coverage gap of the district, ranked (`api/coverage.py`); None when it has neither sensors nor
    assessed imagery."""
    rows, sensors = await repo.coverage_inputs(conn, district=district, zoom=imagery_zoom)
    if not rows and not sensors:
        return None
    found = coverage.gaps((coverage.Assessed(**row) for row in rows), sensors)
    blocks = {g.tile_id: parent_tile(g.tile_id, tile_zoom) for g in found}
    places = await repo.tile_places(conn, tile_ids=sorted(set(blocks.values())))
    out = []
    for gap in found:
        tile = parse_tile_id(gap.tile_id)
        centre = mercantile.ul(tile.x + 0.5, tile.y + 0.5, tile.z)  # the corner half a tile on: the middle
        out.append(CoverageGap(**vars(gap), place=places.get(blocks[gap.tile_id], ""), latitude=round(centre.lat, 6),
                               longitude=round(centre.lng, 6)))  # fmt: skip
    return out
