"""Plausibility flags: readings that contradict the imagery or the neighbours (`api/plausibility.py`), and what
an operator decided about each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api import continuity, plausibility, repo
from api.access import Action, Principal
from api.deps import ConnDep, SettingsDep, allowed
from api.evidence import LIMA
from api.params import DistrictPath
from api.routes.places import NOT_FOUND, Reader, visible_district
from api.schemas import Text

router = APIRouter(tags=["places"])
Rule = Literal["flood-without-water", "sensor-without-buildings", "never-supplied"]
FLOOD_DAYS, SUPPLY_DAYS = 1, 7


class PlausibilityFlag(BaseModel):
    sensor_id: str
    rule: str = Field(examples=["never-supplied"])
    reason: str = Field(description="why, in English")
    reason_es: str = Field(description="why, in Spanish")
    state: str = Field(examples=["open", "confirmed", "dismissed"])
    note: str = ""
    decided_by: str | None = None
    decided_at: datetime | None = None


class Decision(BaseModel):
    decision: Literal["confirmed", "dismissed"] = Field(
        description="confirmed: the sensor or its registration is wrong; dismissed: the ground is right"
    )
    note: Text = Field("", max_length=300, examples=["Sensor en la tubería de la bomba, no en la red"])


async def _flags(conn: ConnDep, settings: SettingsDep, district: str) -> list[plausibility.Flag]:
    now = datetime.now(UTC)
    sensors, floods = await repo.plausibility_inputs(conn, district=district, since=now - timedelta(days=FLOOD_DAYS))
    rows, _ = await repo.coverage_inputs(conn, district=district, zoom=settings.imagery_zoom)
    ground = {r["tile_id"]: plausibility.Ground(**r) for r in rows}
    placed = [plausibility.Placed(**s) for s in sensors]
    water = continuity.STANDARDS[continuity.Service.WATER]
    samples = await repo.service_samples(
        conn, district=district, metric=water.metric, start=now - timedelta(days=SUPPLY_DAYS), end=now
    )
    daily: dict[str, list[float]] = {}
    for sensor_id, group in groupby(samples, key=lambda row: row[0]):
        hours = continuity.supply_hours(((r[2], r[3]) for r in group), water, zone=LIMA)
        daily[sensor_id] = [on for _, (on, _) in sorted(hours.items())]
    return (
        plausibility.flood_without_water(placed, floods, ground)
        + plausibility.sensor_without_buildings(placed, ground)
        + plausibility.never_supplied(daily)
    )


@router.get("/districts/{district}/plausibility", response_model=list[PlausibilityFlag], responses=NOT_FOUND)
async def district_plausibility(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Reader,
    district: DistrictPath,
    dismissed: Annotated[bool, Query(description="also the flags an operator dismissed")] = False,
) -> list[PlausibilityFlag]:
    """Sensors whose readings contradict what the imagery shows or what their neighbours see, each with why:
    water reported on dry ground far from any river, a sensor where the imagery shows no buildings, a water
    sensor that never sees the supply its district sees. Flagged for a person to confirm or dismiss, not
    alerted."""
    await visible_district(conn, district, principal)
    flags = await _flags(conn, settings, district)
    decided = await repo.plausibility_decisions(conn, sensor_ids=sorted({f.sensor_id for f in flags}))
    out = []
    for flag in flags:
        d = decided.get((flag.sensor_id, flag.rule))
        if d is not None and d["decision"] == "dismissed" and not dismissed:
            continue
        out.append(PlausibilityFlag(
            sensor_id=flag.sensor_id, rule=flag.rule, reason=flag.reason_en, reason_es=flag.reason_es,
            state=d["decision"] if d else "open", note=d["note"] if d else "",
            decided_by=d["decided_by"] if d else None, decided_at=d["decided_at"] if d else None,
        ))  # fmt: skip
    return out


@router.put(
    "/sensors/{sensor_id}/plausibility/{rule}",
    response_model=PlausibilityFlag,
    responses={404: {"description": "no such sensor, or it carries no such flag now"}},
)
async def decide(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Annotated[Principal, allowed(Action.MANAGE_SENSORS)],
    sensor_id: Annotated[str, Path(max_length=64)],
    rule: Annotated[Rule, Path()],
    body: Decision,
) -> PlausibilityFlag:
    """Confirm a flag (the sensor or its registration is wrong: fix it) or dismiss it (the ground is right);
    a dismissed flag is no longer listed unless asked for."""
    sensor = await repo.sensor(conn, sensor_id=sensor_id)
    if sensor is None or not principal.sees(sensor["district"]):
        raise HTTPException(404, f"sensor {sensor_id!r} does not exist")
    flags = {(f.sensor_id, f.rule): f for f in await _flags(conn, settings, sensor["district"])}
    flag = flags.get((sensor_id, rule))
    if flag is None:
        raise HTTPException(404, f"sensor {sensor_id!r} carries no {rule!r} flag now")
    d = await repo.decide_plausibility(
        conn, sensor_id=sensor_id, rule=rule, decision=body.decision, note=body.note,
        by=principal.name or principal.key_id,
    )  # fmt: skip
    return PlausibilityFlag(
        sensor_id=sensor_id, rule=rule, reason=flag.reason_en, reason_es=flag.reason_es, state=d["decision"],
        note=d["note"], decided_by=d["decided_by"], decided_at=d["decided_at"],
    )  # fmt: skip
