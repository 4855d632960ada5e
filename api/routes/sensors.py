"""Sensors: the registry, each sensor's latest readings, its series and its uptime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response

from vigia.api import repo
from vigia.api.access import Action, Principal
from vigia.api.deps import ConnDep, allowed
from vigia.api.schemas import LatestReading, LatestWindow, Problem, Sensor, SensorLatest, Series, Uptime, UptimeDay

router = APIRouter(prefix="/sensors", tags=["sensors"])

SensorId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", examples=["sjl-water-01"])
District = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
Reader = Annotated[Principal, allowed(Action.READ)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such sensor"}}

MAX_POINTS = 50_000  # a 30-day month of one-minute windows is 43,200
MAX_RANGE = timedelta(days=366)


class Bucket(StrEnum):
    MINUTE = "1m"
    FIVE_MINUTES = "5m"
    FIFTEEN_MINUTES = "15m"
    HOUR = "1h"
    SIX_HOURS = "6h"
    DAY = "1d"

    @property
    def width(self) -> timedelta:
        unit = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}[self.value[-1]]
        return int(self.value[:-1]) * unit


async def _visible_sensor(conn: ConnDep, sensor_id: str, principal: Principal) -> dict[str, Any]:
    """The sensor's row, or 404: for a leader, another district's sensor does not exist."""
    found = await repo.sensor(conn, sensor_id=sensor_id)
    if found is None or not principal.sees(found["district"]):
        raise HTTPException(status_code=404, detail=f"sensor {sensor_id!r} is not registered")
    return found


def _period(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    start = start or end - default
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(422, "start and end need a time zone, for example 2026-11-20T00:00:00Z")
    if start >= end:
        raise HTTPException(422, "start must be before end")
    if end - start > MAX_RANGE:
        raise HTTPException(422, f"the period may span at most {MAX_RANGE.days} days")
    return start, end


@router.get("", response_model=list[Sensor])
async def sensors(
    conn: ConnDep,
    principal: Reader,
    district: District = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Sensor]:
    """The registry, by district; a leader sees their district's sensors only."""
    rows = await repo.sensors(conn, districts=principal.districts(), district=district, limit=limit, offset=offset)
    return [Sensor(**row) for row in rows]


@router.get("/{sensor_id}", response_model=Sensor, responses=NOT_FOUND)
async def sensor(conn: ConnDep, principal: Reader, sensor_id: str = SensorId) -> Sensor:
    found = await _visible_sensor(conn, sensor_id, principal)
    rows = await repo.sensors(conn, districts=None, district=found["district"], limit=1000, offset=0)
    return next(Sensor(**row) for row in rows if row["sensor_id"] == sensor_id)


@router.get("/{sensor_id}/latest", response_model=SensorLatest, responses=NOT_FOUND)
async def latest(conn: ConnDep, principal: Reader, sensor_id: str = SensorId) -> SensorLatest:
    """The newest reading of each metric and the newest one-minute window, with its housing context."""
    found = await _visible_sensor(conn, sensor_id, principal)
    readings = await repo.latest_readings(conn, sensor_id=sensor_id)
    windows = await repo.latest_windows(conn, sensor_id=sensor_id)
    return SensorLatest(
        sensor_id=found["sensor_id"],
        sensor_type=found["sensor_type"],
        district=found["district"],
        tile_id=found["tile_id"],
        latitude=found["latitude"],
        longitude=found["longitude"],
        readings=[LatestReading(**row) for row in readings],
        windows=[LatestWindow(**row) for row in windows],
    )


@router.get(
    "/{sensor_id}/series",
    response_class=Response,
    responses={200: {"model": Series, "description": "the series, as columns"}, **NOT_FOUND,
               422: {"model": Problem, "description": "bad period, or more points than allowed"}},
)  # fmt: skip
async def series(
    conn: ConnDep,
    principal: Reader,
    metric: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$", examples=["water_pressure"])],
    sensor_id: str = SensorId,
    start: Annotated[datetime | None, Query(description="default: end minus one day")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
    bucket: Bucket = Bucket.MINUTE,
) -> Response:
    """One metric's one-minute windows, re-bucketed with `time_bucket` (count, min, max, mean, last).

    At most 50,000 points: a month of minutes, or a year of hours.
    """
    await _visible_sensor(conn, sensor_id, principal)
    start, end = _period(start, end, timedelta(days=1))
    if (end - start) / bucket.width > MAX_POINTS:
        raise HTTPException(422, f"that is more than {MAX_POINTS} points: choose a wider bucket or a shorter period")
    columns = await repo.series_columns(
        conn, sensor_id=sensor_id, metric=metric, start=start, end=end, bucket=bucket.width
    )
    head = {"sensor_id": sensor_id, "metric": metric, "bucket_seconds": int(bucket.width.total_seconds()),
            "start": start, "end": end}  # fmt: skip
    # The columns arrive as JSON text from the database; the two objects are joined into one.
    body = orjson.dumps(head, option=orjson.OPT_UTC_Z)[:-1] + b"," + columns.encode()[1:]
    return Response(body, media_type="application/json")


@router.get("/{sensor_id}/uptime", response_model=Uptime, responses=NOT_FOUND)
async def uptime(
    conn: ConnDep,
    principal: Reader,
    sensor_id: str = SensorId,
    start: Annotated[datetime | None, Query(description="default: end minus 7 days")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
) -> Uptime:
    """The share of minutes in which the sensor sent any reading, overall and per day."""
    await _visible_sensor(conn, sensor_id, principal)
    start, end = _period(start, end, timedelta(days=7))
    days = await repo.uptime(conn, sensor_id=sensor_id, start=start, end=end)
    minutes = (end - start).total_seconds() / 60
    return Uptime(
        sensor_id=sensor_id,
        start=start,
        end=end,
        share=round(sum(d["minutes"] for d in days) / minutes, 4),
        days=[UptimeDay(day=d["day"], minutes=d["minutes"], share=round(d["minutes"] / 1440, 4)) for d in days],
    )
