from __future__ import annotations

import random
from datetime import UTC, datetime

from vigia.contracts import Metric
from vigia.ingest.payload import SensorInfo, parse_message
from vigia.ingest.simulator import SAN_JUAN_DE_LURIGANCHO, district_sensors, payload, sample, water_supplied


def test_district_is_deterministic_and_covers_every_type() -> None:
    first = district_sensors(SAN_JUAN_DE_LURIGANCHO, 2, 17, seed=3)
    again = district_sensors(SAN_JUAN_DE_LURIGANCHO, 2, 17, seed=3)
    assert first == again
    assert len({s.sensor_id for s in first}) == len(first) == 12
    assert all(s.tile_id.startswith("17/") for s in first)


def test_no_pressure_outside_the_supply_window() -> None:
    sensor = next(s for s in district_sensors(SAN_JUAN_DE_LURIGANCHO, 3, 17) if s.sensor_type == "water")
    rng = random.Random(0)
    hours = [datetime(2026, 3, 2, h, 30, tzinfo=UTC) for h in range(24)]
    supplied = [h for h in hours if water_supplied(sensor, h)]
    dry = [h for h in hours if not water_supplied(sensor, h)]
    assert len(supplied) == sensor.supply_hours
    assert all(sample(sensor, h, rng)["water_pressure"] < 0.05 for h in dry)
    assert all(sample(sensor, h, rng)["water_pressure"] > 1.0 for h in supplied)


def test_simulated_payloads_parse_into_the_sensor_metrics() -> None:
    at = datetime(2026, 3, 2, 15, tzinfo=UTC)
    for sensor in district_sensors(SAN_JUAN_DE_LURIGANCHO, 1, 17):
        info = SensorInfo(sensor.sensor_id, sensor.district, sensor.tile_id, frozenset(sensor.metrics))
        body = payload(sensor, at, random.Random(1))
        outcome = parse_message(body, topic=sensor.topic, lookup={sensor.sensor_id: info}.get, received_at=at)
        assert outcome.rejects == []
        readings = outcome.readings
        assert {r.metric for r in readings} == set(sensor.metrics)
        voltage = [r.value for r in readings if r.metric is Metric.MAINS_VOLTAGE]
        assert all(v == 0.0 or 150 < v < 250 for v in voltage)
