"""Response models: what the API promises, with examples for the OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


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
