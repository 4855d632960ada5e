"""What each metric means physically: its canonical unit, plausible range and exact conversions.

Ranges are what the sensor can physically report in these settlements, wide enough never to
reject a real extreme (a 0 V outage, a 100 % humid wall) and narrow enough to catch a
misconfigured sensor (a tank at 250 %, a pressure in kPa sent as bar).
Only exact conversions are applied; anything else is an unknown unit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ingest.rejection import Rejected
from vigia.contracts import CANONICAL_UNITS, Metric

Convert = Callable[[float], float]

PSI_IN_BAR = 6894.757293168 / 100_000  # 1 psi is defined as 6894.757293168 Pa


@dataclass(frozen=True)
class MetricSpec:
    metric: Metric
    low: float
    high: float
    conversions: dict[str, Convert] = field(default_factory=dict)

    @property
    def unit(self) -> str:
        return CANONICAL_UNITS[self.metric]


def _scale(factor: float) -> Convert:
    return lambda value: value * factor


def _from_fahrenheit(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


def _from_kelvin(value: float) -> float:
    return value - 273.15


SPECS: dict[Metric, MetricSpec] = {
    spec.metric: spec
    for spec in (
        MetricSpec(Metric.WATER_PRESSURE, 0.0, 16.0,
                   {"kPa": _scale(0.01), "Pa": _scale(1e-5), "mbar": _scale(1e-3), "psi": _scale(PSI_IN_BAR)}),
        MetricSpec(Metric.TANK_LEVEL, 0.0, 100.0, {"/": _scale(100.0)}),
        MetricSpec(Metric.FLOW, 0.0, 500.0, {"l/s": _scale(60.0), "m3/h": lambda v: v * 1000.0 / 60.0}),
        MetricSpec(Metric.MAINS_VOLTAGE, 0.0, 400.0),
        MetricSpec(Metric.TEMPERATURE, -40.0, 70.0, {"degF": _from_fahrenheit, "K": _from_kelvin}),
        MetricSpec(Metric.RELATIVE_HUMIDITY, 0.0, 100.0, {"%": _scale(1.0), "/": _scale(100.0)}),
        MetricSpec(Metric.PM25, 0.0, 2000.0, {"ug/m^3": _scale(1.0), "kg/m3": _scale(1e9)}),
        MetricSpec(Metric.CO, 0.0, 1000.0, {"ppb": _scale(1e-3)}),
        MetricSpec(Metric.TILT, -90.0, 90.0, {"rad": _scale(180.0 / math.pi)}),
        MetricSpec(Metric.VIBRATION, 0.0, 500.0, {"m/s": _scale(1000.0)}),
        MetricSpec(Metric.FLOOD_LEVEL, 0.0, 10.0, {"cm": _scale(0.01), "mm": _scale(0.001)}),
        MetricSpec(Metric.BATTERY, 0.0, 100.0, {"/": _scale(100.0)}),
    )
}  # fmt: skip

METRICS_BY_NAME: dict[str, Metric] = {metric.value: metric for metric in Metric}


class MeasurementError(Rejected):
    """A value that is not a plausible measurement of its metric."""


def canonical(metric: Metric, value: float, unit: str | None) -> float:
    """The value in the metric's canonical unit, checked against its physical range."""
    spec = SPECS[metric]
    if not math.isfinite(value):
        raise MeasurementError("not_finite", f"{metric.value} is not finite")
    if unit is not None and unit != spec.unit:
        convert = spec.conversions.get(unit)
        if convert is None:
            raise MeasurementError("unknown_unit", f"{metric.value} in {unit!r}; expected {spec.unit!r}")
        value = convert(value)
    if not spec.low <= value <= spec.high:
        raise MeasurementError(
            "out_of_range", f"{metric.value} = {value:g} {spec.unit} outside [{spec.low:g}, {spec.high:g}]"
        )
    return value
