from __future__ import annotations

import pytest

from ingest.metrics import SPECS, MeasurementError, canonical
from vigia.contracts import CANONICAL_UNITS, Metric


def test_every_metric_has_a_spec_in_its_canonical_unit() -> None:
    assert set(SPECS) == set(Metric)
    for metric, spec in SPECS.items():
        assert spec.unit == CANONICAL_UNITS[metric]
        assert spec.low < spec.high


@pytest.mark.parametrize(
    ("metric", "value", "unit", "expected"),
    [
        (Metric.WATER_PRESSURE, 150, "kPa", 1.5),
        (Metric.WATER_PRESSURE, 14.503773773, "psi", 1.0),
        (Metric.WATER_PRESSURE, 1.5, "bar", 1.5),
        (Metric.WATER_PRESSURE, 1.5, None, 1.5),
        (Metric.TEMPERATURE, 50, "degF", 10.0),
        (Metric.TEMPERATURE, 293.15, "K", 20.0),
        (Metric.FLOOD_LEVEL, 250, "mm", 0.25),
        (Metric.FLOOD_LEVEL, 25, "cm", 0.25),
        (Metric.TANK_LEVEL, 0.42, "/", 42.0),
        (Metric.FLOW, 1, "m3/h", 1000 / 60),
    ],
)
def test_exact_conversions(metric: Metric, value: float, unit: str | None, expected: float) -> None:
    assert canonical(metric, value, unit) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("metric", "value", "unit", "reason"),
    [
        (Metric.WATER_PRESSURE, 1.0, "inHg", "unknown_unit"),
        (Metric.MAINS_VOLTAGE, 220.0, "kV", "unknown_unit"),
        (Metric.MAINS_VOLTAGE, 1000.0, "V", "out_of_range"),
        (Metric.RELATIVE_HUMIDITY, 101.0, "%RH", "out_of_range"),
        (Metric.TEMPERATURE, 200.0, "degF", "out_of_range"),
        (Metric.TILT, float("nan"), "deg", "not_finite"),
    ],
)
def test_refusals(metric: Metric, value: float, unit: str, reason: str) -> None:
    with pytest.raises(MeasurementError) as caught:
        canonical(metric, value, unit)
    assert caught.value.reason == reason


def test_zero_voltage_is_a_real_outage_not_an_error() -> None:
    assert canonical(Metric.MAINS_VOLTAGE, 0.0, "V") == 0.0
