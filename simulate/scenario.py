"""Simulation scenarios: a district, its sensors and what happens to them, read from YAML.

A scenario is data, validated on load with errors that name the offending field, so a
person can write one for their own district without reading code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigia.contracts import SENSOR_METRICS, DistrictSlug

SCENARIOS_DIR = Path(__file__).parent / "scenarios"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DistrictSpec(_Spec):
    slug: DistrictSlug
    code: str = Field(pattern=r"^[a-z0-9]{1,8}$", description="prefix of the sensor ids")
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(1000, gt=0, le=20_000)
    neighbourhoods: list[str] = Field(
        ["AA.HH. Villa Hermosa", "AA.HH. Nueva Esperanza", "AA.HH. Señor de los Milagros", "AA.HH. Las Lomas"],
        min_length=1,
        description="settlements sensors stand in; each sensor is placed on a block (Mz.) of one",
    )


class WaterSpec(_Spec):
    """Piped supply arrives in a daily window (local time) that varies by street."""

    supply_start_hours: list[int] = Field([4, 5, 6, 14], min_length=1)
    supply_hours: list[int] = Field([5, 6, 8], min_length=1)
    fill_percent_per_hour: float = Field(25, gt=0)
    drain_percent_per_hour: float = Field(6, gt=0)


class PowerOutage(_Spec):
    kind: Literal["power_outage"]
    after_hours: float = Field(ge=0)
    duration_hours: float = Field(gt=0)
    share: float = Field(1.0, gt=0, le=1)


class VoltageSags(_Spec):
    kind: Literal["voltage_sag"]
    probability: float = Field(gt=0, le=1, description="chance a reading falls in a sag")
    depth_volts: float = Field(25, gt=0, le=220)


class Damp(_Spec):
    kind: Literal["damp"]
    share: float = Field(gt=0, le=1)
    humidity_percent: float = Field(96, gt=0, le=100)


class Tremor(_Spec):
    kind: Literal["tremor"]
    after_hours: float = Field(ge=0)
    share: float = Field(gt=0, le=1)
    tilt_degrees_per_hour: float = Field(0.3, gt=0)


class Rain(_Spec):
    kind: Literal["rain"]
    after_hours: float = Field(ge=0)
    duration_hours: float = Field(gt=0)
    rise_m_per_hour: float = Field(0.15, gt=0)


class Silent(_Spec):
    kind: Literal["silent"]
    after_hours: float = Field(ge=0)
    share: float = Field(gt=0, le=1)


Event = Annotated[PowerOutage | VoltageSags | Damp | Tremor | Rain | Silent, Field(discriminator="kind")]


class Scenario(_Spec):
    name: str
    district: DistrictSpec
    seed: int = 7
    sensors: dict[str, int] = Field(min_length=1, description="how many sensors of each type")
    start_hours_ago: float = Field(0, ge=0, le=24 * 6, description="0: live from now; more: replay the past")
    duration_hours: float = Field(gt=0, le=24 * 6)
    interval_seconds: float = Field(60, gt=0, description="simulated seconds between readings of one sensor")
    rate: float | None = Field(None, gt=0, description="most messages per real second; none: real time")
    water: WaterSpec = WaterSpec()
    events: list[Event] = []
    malformed_share: float = Field(0.0, ge=0, le=0.5)

    @field_validator("sensors")
    @classmethod
    def _known_types(cls, sensors: dict[str, int]) -> dict[str, int]:
        for kind, count in sensors.items():
            if kind not in SENSOR_METRICS or kind == "gateway":
                raise ValueError(f"unknown sensor type {kind!r}")
            if not 0 <= count <= 10_000:
                raise ValueError(f"{kind}: {count} sensors is not between 0 and 10000")
        return sensors

    @property
    def live(self) -> bool:
        return self.start_hours_ago == 0


class ScenarioError(ValueError):
    pass


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; a name without a path looks in the bundled scenarios."""
    if not path.exists() and not path.is_absolute() and (SCENARIOS_DIR / path).exists():
        path = SCENARIOS_DIR / path
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ScenarioError(f"cannot read scenario {path}: {error}") from error
    try:
        return Scenario.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors())
        raise ScenarioError(f"scenario {path} is not valid: {problems}") from error
