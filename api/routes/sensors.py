"""Sensors: the registry, each sensor's latest readings, its series and its uptime."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api import provisioning, repo
from api.access import Action, Principal
from api.deps import AccountsDep, ConnDep, LatestDep, SettingsDep, allowed, period
from api.params import DISTRICT_EXAMPLE, DistrictQuery, SensorIdPath
from api.schemas import Problem, Sensor, SensorLatest, Series, Text, Uptime, UptimeDay
from vigia.accounts import BrokerAccountsError
from vigia.contracts import DistrictSlug, Metric, SensorId, SensorType

router = APIRouter(prefix="/sensors", tags=["sensors"])

Reader = Annotated[Principal, allowed(Action.READ)]
SharedReader = Annotated[Principal, allowed(Action.READ, connection=False)]  # for a route that holds no connection
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such sensor"}}

MAX_POINTS = 50_000  # a 30-day month of one-minute windows is 43,200


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


async def visible_sensor(conn: ConnDep, sensor_id: str, principal: Principal) -> dict[str, Any]:
    """The sensor's row, or 404: for a leader, another district's sensor does not exist."""
    found = await repo.sensor(conn, sensor_id=sensor_id)
    if found is None or not principal.sees(found["district"]):
        raise not_registered(sensor_id)
    return found


def not_registered(sensor_id: str) -> HTTPException:
    return HTTPException(status_code=404, detail=f"sensor {sensor_id!r} is not registered")


@router.get("", response_model=list[Sensor])
async def sensors(
    conn: ConnDep,
    principal: Reader,
    district: DistrictQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Sensor]:
    """The registry, by district; a leader sees their district's sensors only."""
    rows = await repo.sensors(
        conn, districts=principal.districts(), district=district, sensor_id=None, limit=limit, offset=offset
    )
    return [Sensor(**row) for row in rows]


@router.get("/{sensor_id}", response_model=Sensor, responses=NOT_FOUND)
async def sensor(conn: ConnDep, principal: Reader, sensor_id: SensorIdPath) -> Sensor:
    found = await visible_sensor(conn, sensor_id, principal)
    [row] = await repo.sensors(conn, districts=None, district=found["district"], sensor_id=sensor_id, limit=1, offset=0)
    return Sensor(**row)


@router.get(
    "/{sensor_id}/latest", response_class=Response,
    responses={200: {"model": SensorLatest, "description": "the newest of each metric"}, **NOT_FOUND},
)  # fmt: skip
async def latest(principal: SharedReader, reads: LatestDep, sensor_id: SensorIdPath) -> Response:
    """The newest reading of each metric and the newest one-minute window, with its housing context.

    The most frequent read a dashboard makes. Requests that arrive together share one query
    (see `api/coalesce.py`), and the rows go straight to JSON: building and validating the
    models cost as much as the query. The database's types are the schema's, and the tests
    check the body against `SensorLatest`.
    """
    found = await reads.get(sensor_id)
    if found is None or not principal.sees(found[0]["district"]):
        raise not_registered(sensor_id)
    head, readings, windows = found
    body = orjson.dumps({**head, "readings": readings, "windows": windows}, option=orjson.OPT_UTC_Z)
    return Response(body, media_type="application/json")


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
    sensor_id: SensorIdPath,
    start: Annotated[datetime | None, Query(description="default: end minus one day")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
    bucket: Bucket = Bucket.MINUTE,
) -> Response:
    """One metric's one-minute windows, re-bucketed with `time_bucket` (count, min, max, mean, last).

    At most 50,000 points: a month of minutes, or a year of hours.
    """
    await visible_sensor(conn, sensor_id, principal)
    start, end = period(start, end, timedelta(days=1))
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
    sensor_id: SensorIdPath,
    start: Annotated[datetime | None, Query(description="default: end minus 7 days")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
) -> Uptime:
    """The share of minutes in which the sensor sent any reading, overall and per day."""
    await visible_sensor(conn, sensor_id, principal)
    start, end = period(start, end, timedelta(days=7))
    days = await repo.uptime(conn, sensor_id=sensor_id, start=start, end=end)
    minutes = (end - start).total_seconds() / 60
    return Uptime(
        sensor_id=sensor_id,
        start=start,
        end=end,
        share=round(sum(d["minutes"] for d in days) / minutes, 4),
        days=[UptimeDay(day=d["day"], minutes=d["minutes"], share=round(d["minutes"] / 1440, 4)) for d in days],
    )


Admin = Annotated[Principal, allowed(Action.MANAGE_SENSORS)]


class NewSensor(BaseModel):
    sensor_id: SensorId = Field(examples=["sjl-water-07"])
    sensor_type: str = Field(examples=["water"], description=", ".join(SensorType))
    district: DistrictSlug = Field(examples=[DISTRICT_EXAMPLE])
    latitude: float = Field(ge=-90, le=90, examples=[-11.9847])
    longitude: float = Field(ge=-180, le=180, examples=[-77.0049])
    metrics: list[Metric] = Field(default_factory=list, description="default: the type's metrics")
    place: Text = Field(
        "", max_length=80, description="how neighbours name where it stands; used in messages",
        examples=["Mz. C, AA.HH. Villa Hermosa"],
    )  # fmt: skip


class Credentials(BaseModel):
    sensor_id: str
    district: str
    tile_id: str
    topic: str = Field(examples=["vigia/san-juan-de-lurigancho/sjl-water-07/telemetry"])
    password: str = Field(description="the sensor's MQTT password; shown only now")


@router.post(
    "",
    status_code=201,
    response_model=Credentials,
    responses={503: {"model": Problem, "description": "the MQTT broker could not be told"}},
)
async def register(settings: SettingsDep, accounts: AccountsDep, principal: Admin, body: NewSensor) -> Credentials:
    """Register a sensor (or re-issue an existing one's credentials) and let it publish to its own topic.

    The broker's accounts are changed through this deployment's `VIGIA_BROKER_ACCOUNTS`.
    """
    try:
        done = await asyncio.to_thread(provisioning.add, settings, accounts, **body.model_dump())
    except provisioning.ProvisioningError as error:
        raise HTTPException(422, str(error)) from error
    except BrokerAccountsError as error:
        raise HTTPException(503, f"the MQTT broker could not be told: {error}") from error
    return Credentials(**vars(done))


@router.delete("/{sensor_id}", status_code=204, responses={**NOT_FOUND, 503: {"model": Problem}})
async def revoke(settings: SettingsDep, accounts: AccountsDep, principal: Admin, sensor_id: SensorIdPath) -> Response:
    """Stop a sensor: it can no longer connect, and what it sends is refused. Its history stays."""
    try:
        found = await asyncio.to_thread(provisioning.revoke, settings, accounts, sensor_id)
    except BrokerAccountsError as error:
        raise HTTPException(503, f"the MQTT broker could not be told: {error}") from error
    if not found:
        raise HTTPException(404, f"sensor {sensor_id!r} is not registered")
    return Response(status_code=204)


class PlaceName(BaseModel):
    place: Text = Field(max_length=80, examples=["Mz. C, AA.HH. Villa Hermosa"])


@router.put("/{sensor_id}/place", status_code=204, responses=NOT_FOUND)
async def name_place(conn: ConnDep, principal: Admin, sensor_id: SensorIdPath, body: PlaceName) -> Response:
    """Name where a sensor stands as neighbours do; messages and the page use it instead of the sensor id."""
    if not await repo.name_place(conn, sensor_id=sensor_id, place=body.place.strip()):
        raise HTTPException(404, f"sensor {sensor_id!r} is not registered")
    return Response(status_code=204)
