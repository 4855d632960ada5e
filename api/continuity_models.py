"""What the continuity evidence answers: interruptions as the regulators count them, per period and semester."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import Text


class InterruptionOut(BaseModel):
    sensor_id: str
    tile_id: str
    started: datetime
    ended: datetime | None = Field(description="null: still off at the end of the period")
    minutes: float
    unobserved_minutes: float = Field(description="minutes inside it with no reading: weigh as evidence")
    compensable: bool = Field(description="power only: longer than 4 consecutive hours, and not announced in time")
    announced: bool = Field(False, description="a programmed cut announced 48 hours ahead: listed, not counted")


class CutIn(BaseModel):
    """A programmed cut, as the utility or distributor announced it."""

    service: Literal["power", "water"]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime = Field(description="when people were told (a notice, a radio spot, a letter)")
    note: Text = Field("", max_length=300, examples=["Mantenimiento de la red, aviso de Luz del Sur"])


class Cut(CutIn):
    id: int
    recorded_by: str


class DailySupply(BaseModel):
    day: date = Field(description="a day in Lima")
    hours: float = Field(description="mean hours with water over the district's water sensors that reported")
    observed_hours: float = Field(description="mean hours those sensors reported: what the figure rests on")
    sensors: int


class ServiceSummary(BaseModel):
    count: int = Field(description="interruptions counted: announced programmed cuts are not")
    total_minutes: float
    longest_minutes: float
    announced: int = Field(0, description="programmed cuts announced 48 hours ahead, listed but not counted")
    compensable: int
    sensors: int = Field(description="sensors of this service in the district")
    interruptions: list[InterruptionOut]


class Continuity(BaseModel):
    district: str
    start: datetime
    end: datetime
    rules: dict[str, str] = Field(description="how each service's interruptions are counted")
    power: ServiceSummary
    water: ServiceSummary
    cuts: list[Cut] = Field(description="programmed cuts recorded for the period")
    water_supply: list[DailySupply] = Field(description="hours of water a day, as SUNASS reports continuity")


class ToleranceIn(BaseModel):
    """The NTCSE's indicators for one supply point over a semester, at the level an operator sets for it."""

    interruptions: int = Field(ge=0, le=10_000, description="most interruptions a supply point may have (N)")
    hours: float = Field(ge=0, le=4_392, description="most hours they may last in all (D)")


class Tolerance(ToleranceIn):
    set_by: str
    set_at: datetime


class SupplyPointOut(BaseModel):
    sensor_id: str
    tile_id: str
    interruptions: int
    hours: float
    over_tolerance: bool


class SemesterService(BaseModel):
    count: int = Field(description="interruptions counted over all the district's sensors")
    total_hours: float
    compensable: int
    announced: int
    tolerance: Tolerance | None = Field(description="null until an operator sets it")
    over_tolerance: int = Field(description="supply points past either indicator of the tolerance")
    supply_points: list[SupplyPointOut] = Field(description="each sensor's N and D, those past the tolerance first")


class SemesterEvidence(BaseModel):
    district: str
    semester: str = Field(examples=["2026-II"])
    start: datetime
    end: datetime = Field(description="the semester's end, or now while it runs")
    power: SemesterService
    water: SemesterService
