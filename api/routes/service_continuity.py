"""A district's service continuity as the regulators count it, and the programmed cuts operators record.

Interruptions come from the sensors' one-minute windows (`api/continuity.py` says how each
service is counted). A programmed cut announced 48 hours ahead is listed beside the others
but neither counted nor compensable, once an operator records when it was announced; water
continuity is also given as hours of supply a day, as SUNASS reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from api import continuity, repo
from api.access import Action, Principal
from api.deps import ConnDep, allowed, period
from api.params import DistrictPath
from api.routes.places import NOT_FOUND, Reader, visible_district
from api.schemas import Continuity, Cut, CutIn, DailySupply, InterruptionOut, ServiceSummary

router = APIRouter(tags=["places"])
LIMA = ZoneInfo("America/Lima")
Samples = list[tuple[str, str, datetime, float]]


def _service(
    samples: Samples, standard: continuity.Standard, service: continuity.Service, end: datetime,
    cuts: Sequence[continuity.Announcement],
) -> ServiceSummary:  # fmt: skip
    found: list[InterruptionOut] = []
    counted: list[continuity.Interruption] = []
    sensors = 0
    for (sensor_id, tile_id), rows in groupby(samples, key=lambda row: (row[0], row[1])):
        sensors += 1
        for span in continuity.interruptions(((r[2], r[3]) for r in rows), standard, period_end=end):
            programmed = continuity.announced(span, service, cuts)
            if not programmed:
                counted.append(span)
            found.append(
                InterruptionOut(
                    sensor_id=sensor_id, tile_id=tile_id, started=span.started, ended=span.ended,
                    minutes=round(span.duration.total_seconds() / 60, 1),
                    unobserved_minutes=round(span.unobserved.total_seconds() / 60, 1),
                    compensable=span.compensable and not programmed, announced=programmed,
                )
            )  # fmt: skip
    summary = continuity.summarise(counted)
    return ServiceSummary(
        count=summary.count,
        total_minutes=round(summary.total.total_seconds() / 60, 1),
        longest_minutes=round(summary.longest.total_seconds() / 60, 1),
        compensable=summary.compensable,
        announced=len(found) - len(counted),
        sensors=sensors,
        interruptions=sorted(found, key=lambda i: i.started),
    )


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


def _rule(standard: continuity.Standard) -> str:
    minutes = standard.counted_from.total_seconds() / 60
    rule = f"{standard.metric} below {standard.off_below:g} for a whole minute, counted from {minutes:g} minutes"
    if standard.compensable_after is not None:
        rule += f"; over {standard.compensable_after.total_seconds() / 3600:g} hours is compensable"
    return rule + "; programmed cuts announced 48 hours ahead are listed, not counted"


@router.get("/districts/{district}/continuity", response_model=Continuity, responses=NOT_FOUND)
async def district_continuity(
    conn: ConnDep,
    principal: Reader,
    district: DistrictPath,
    start: Annotated[datetime | None, Query(description="default: end minus 30 days")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
) -> Continuity:
    """Every power interruption of 3 minutes or more and every water outage of 30 minutes or more.

    Counted per sensor from one-minute windows, as the NTCSE counts interruptions; power
    interruptions over 4 consecutive hours are flagged compensable (D.L. 25844, art. 86)
    unless an operator recorded them as programmed and announced 48 hours ahead. Time a
    sensor was silent inside an interruption is reported apart, as weaker evidence. Water
    is also given as hours of supply a day (Lima days), as SUNASS reports continuity.
    """
    await visible_district(conn, district, principal)
    start, end = period(start, end, timedelta(days=30))
    rows = await repo.announced_cuts(conn, district=district, start=start - timedelta(days=1), end=end)
    cuts = [
        continuity.Announcement(continuity.Service(r["service"]), r["starts_at"], r["ends_at"], r["announced_at"])
        for r in rows
    ]
    summaries, rules = {}, {}
    water: Samples = []
    for service, standard in continuity.STANDARDS.items():
        samples = await repo.service_samples(conn, district=district, metric=standard.metric, start=start, end=end)
        summaries[service.value] = _service(samples, standard, service, end, cuts)
        rules[service.value] = _rule(standard)
        if service is continuity.Service.WATER:
            water = samples
    supply = _daily_supply(water, continuity.STANDARDS[continuity.Service.WATER])
    return Continuity(
        district=district, start=start, end=end, rules=rules, cuts=[Cut(**r) for r in rows], water_supply=supply,
        **summaries,
    )  # fmt: skip


@router.post("/districts/{district}/cuts", response_model=Cut, status_code=201, responses=NOT_FOUND)
async def record_cut(
    conn: ConnDep,
    principal: Annotated[Principal, allowed(Action.ANNOUNCE)],
    district: DistrictPath,
    body: CutIn,
) -> Cut:
    """Record a programmed cut and when it was announced; one announced 48 hours ahead stops counting."""
    await visible_district(conn, district, principal)
    if body.ends_at <= body.starts_at:
        raise HTTPException(422, "ends_at must be after starts_at")
    if body.announced_at > body.starts_at:
        raise HTTPException(422, "a cut announced after it began was not announced")
    row = await repo.record_cut(conn, district=district, cut=body.model_dump(), by=principal.name or principal.key_id)
    return Cut(**row)
