"""Response models: what the API promises, with examples for the OpenAPI document."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(value: str) -> str:
    """Text a person wrote: no control characters (newlines and tabs are fine) and valid Unicode.

    PostgreSQL cannot store a NUL in text, and a lone surrogate cannot be encoded at all:
    both would fail deep in the database call instead of here, with a reason.
    """
    if CONTROL.search(value):
        raise ValueError("contains control characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(plain_text)]


class Problem(BaseModel):
    """Every error answers with this shape."""

    detail: str = Field(examples=["sensor 'sjl-water-9' is not registered"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    database: str = Field(examples=["ok"])


class LatestReading(BaseModel):
    metric: str = Field(examples=["water_pressure"])
    value: float = Field(examples=[1.42])
    unit: str = Field(examples=["bar"])
    time: datetime
    received_at: datetime
    reading_id: str
    raw_value: float | None = Field(None, description="what the sensor sent, when its calibration changed it")
    calibration: int | None = Field(None, description="the version of the sensor's calibration applied")


class LatestWindow(BaseModel):
    metric: str
    bucket: datetime = Field(description="start of the one-minute window")
    count: int
    min: float
    max: float
    mean: float
    last: float
    embedding_id: str | None = Field(description="the tile assessment joined with this window, if any")
    model_version: str | None
    land_use_class: str = Field(examples=["denseresidential", "unassessed"])
    housing_score: float | None


class SensorLatest(BaseModel):
    sensor_id: str = Field(examples=["sjl-water-01"])
    sensor_type: str
    district: str = Field(examples=["san-juan-de-lurigancho"])
    tile_id: str = Field(examples=["17/36926/69893"])
    latitude: float
    longitude: float
    readings: list[LatestReading]
    windows: list[LatestWindow]


class Sensor(BaseModel):
    sensor_id: str = Field(examples=["sjl-water-01"])
    sensor_type: str = Field(examples=["water"])
    district: str = Field(examples=["san-juan-de-lurigancho"])
    latitude: float = Field(examples=[-11.9847])
    longitude: float = Field(examples=[-77.0049])
    tile_id: str = Field(examples=["17/36926/69893"])
    place: str = Field("", description="how neighbours name where it stands", examples=["Mz. C, AA.HH. Villa Hermosa"])
    metrics: list[str] = Field(examples=[["water_pressure", "tank_level"]])
    created_at: datetime
    revoked_at: datetime | None
    last_seen: datetime | None = Field(description="newest reading in the last day; null if none")


class Series(BaseModel):
    """Columns rather than rows: a month of minutes is 43,200 points, and columns keep it small."""

    sensor_id: str = Field(examples=["sjl-water-01"])
    metric: str = Field(examples=["water_pressure"])
    bucket_seconds: int = Field(examples=[60])
    start: datetime
    end: datetime
    points: int = Field(examples=[2])
    time: list[int] = Field(
        description="each bucket's start, in seconds since 1970-01-01 UTC", examples=[[1763647200, 1763647260]]
    )
    count: list[int] = Field(examples=[[6, 6]])
    min: list[float] = Field(examples=[[1.2, 0.1]])
    max: list[float] = Field(examples=[[1.4, 1.3]])
    mean: list[float | None] = Field(examples=[[1.31, 0.62]])
    last: list[float] = Field(examples=[[1.35, 0.1]])


class UptimeDay(BaseModel):
    day: datetime
    minutes: int = Field(description="minutes of the day with at least one reading", examples=[1412])
    share: float = Field(examples=[0.981])


class Uptime(BaseModel):
    sensor_id: str
    start: datetime
    end: datetime
    share: float = Field(description="minutes with a reading over minutes in the period", examples=[0.97])
    days: list[UptimeDay]


class Assessment(BaseModel):
    tile_id: str = Field(examples=["17/36926/69893"])
    district: str | None
    assessed_at: datetime
    model_version: str = Field(examples=["tilenet-20261120-3f2a"])
    land_use_class: str = Field(examples=["denseresidential"])
    class_probability: float | None = Field(examples=[0.91])
    housing_score: float = Field(description="0 sound housing, 1 precarious", examples=[0.72])
    precarious_share: float | None
    sub_tiles: int | None
    features: dict[str, float] | None = Field(examples=[{"built_up": 0.37, "vegetation": 0.05}])
    source: str | None


class Alert(BaseModel):
    alert_id: str = Field(examples=["0b9f6c1e-3f7c-4c55-9d0a-5b1f2f0a9e11"])
    rule: str = Field(examples=["water_outage"])
    sensor_id: str
    metric: str | None
    district: str
    tile_id: str
    severity: str = Field(examples=["critical"])
    state: str = Field(examples=["open", "acknowledged", "resolved", "withdrawn"])
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str | None
    value: float | None
    detail: str
    title_es: str = Field(examples=["Sin agua"])
    title_en: str = Field(examples=["No water"])
    model_version: str | None
    land_use_class: str
    housing_score: float | None
    window_start: datetime | None = Field(None, description="the window the condition was seen in; for a change"
                                          " seen from the air, the earlier acquisition")  # fmt: skip
    window_end: datetime | None = Field(None, description="for a change seen from the air, the later acquisition")


class AlertEvent(BaseModel):
    time: datetime
    change: str = Field(examples=["opened"])
    severity: str
    state: str
    value: float | None
    detail: str


class AlertDetail(Alert):
    history: list[AlertEvent]


class TileSensor(BaseModel):
    sensor_id: str
    sensor_type: str
    latitude: float
    longitude: float
    metrics: list[str]


class TileStatus(BaseModel):
    tile_id: str = Field(examples=["17/36926/69893"])
    place: str = Field(
        "", description="how people name the block; empty if nobody named it", examples=["Mz. C, AA.HH. Villa Hermosa"]
    )
    bounds: list[float] = Field(
        description="west, south, east, north in degrees", examples=[[-77.0, -12.0, -76.9, -11.9]]
    )
    status: str = Field(description="critical, warning, ok or unassessed", examples=["critical"])
    assessment: Assessment | None
    sensors: list[TileSensor]
    open_alerts: list[Alert]


class DistrictStatus(BaseModel):
    district: str = Field(examples=["san-juan-de-lurigancho"])
    sensors: int
    sensors_reporting: int = Field(description="sensors heard from in the last 15 minutes")
    open_alerts: int
    critical_alerts: int
    mean_housing_score: float | None
    status: str = Field(examples=["critical", "warning", "ok"])


class Acknowledgement(BaseModel):
    note: Text = Field("", max_length=500, examples=["Cisterna pedida a Sedapal, llega a las 16:00"])


class PriorityRow(BaseModel):
    rank: int
    tile_id: str
    place: str = Field("", description="how people name the block", examples=["Mz. C, AA.HH. Villa Hermosa"])
    district: str
    index: float = Field(description="0-100; see the description of this endpoint", examples=[71.4])
    vulnerability: float
    burden: float
    weighted_alert_hours: float
    open_alerts: int
    why: str = Field(examples=["housing score 0.81 (mobilehomepark); 3 alerts, 52 weighted alert-hours"])


class DistrictPriority(BaseModel):
    rank: int
    district: str
    index: float
    tiles: int
    open_alerts: int
    why: str


class CoverageGap(BaseModel):
    rank: int
    tile_id: str = Field(examples=["19/150041/279759"])
    place: str = Field(description="the name of the block it lies in, where one is known")
    housing_score: float
    built_up_fraction: float | None = Field(description="the share of the tile under roofs: a proxy for homes")
    land_use_class: str
    need: float = Field(description="housing score times built-up fraction (at least 0.25): what ranks the gaps")
    nearest_sensor_m: float | None = Field(description="from the tile's centre; null when the district has none")
    latitude: float
    longitude: float
