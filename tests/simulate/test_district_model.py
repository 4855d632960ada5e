from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ingest.payload import SensorInfo, parse_message
from ingest.rejection import Rejected
from simulate.district_model import DistrictModel, SimSensor, place_sensors, water_supplied
from simulate.scenario import Scenario
from vigia.contracts import Metric

START = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)  # midnight in Lima


def scenario(**overrides: object) -> Scenario:
    document: dict[str, object] = {
        "name": "test",
        "district": {"slug": "comas", "code": "cms", "latitude": -11.94, "longitude": -77.05},
        "sensors": {"water": 4, "power": 4, "climate": 2, "structure": 2, "flood": 2, "air": 1},
        "start_hours_ago": 24,
        "duration_hours": 24,
        "interval_seconds": 600,
        "rate": 1000,
    }
    document.update(overrides)
    return Scenario.model_validate(document)


def run(s: Scenario) -> tuple[list[SimSensor], list[list]]:  # type: ignore[type-arg]
    sensors = place_sensors(s, 17)
    return sensors, list(DistrictModel(s, sensors, START).ticks())


def series(ticks: list[list], sensor: SimSensor) -> list[tuple[datetime, dict]]:  # type: ignore[type-arg]
    out = []
    for tick in ticks:
        for emission in tick:
            if emission.topic == sensor.topic and not emission.malformed:
                out.append((emission.at, orjson.loads(emission.payload)))
    return out


def value(document: object, metric: str) -> float:
    if isinstance(document, list):  # SenML, pressure in kPa
        record = next(r for r in document if r["n"] == metric)
        return float(record["v"]) / (100 if record.get("u") == "kPa" else 1)
    assert isinstance(document, dict)
    return float(document[metric])


def test_the_same_scenario_gives_the_same_district() -> None:
    first, first_ticks = run(scenario())
    again, again_ticks = run(scenario())
    assert first == again
    assert [[e.payload for e in t] for t in first_ticks] == [[e.payload for e in t] for t in again_ticks]
    assert len({s.sensor_id for s in first}) == 15
    assert len(first_ticks) == 24 * 6


def test_every_payload_parses_into_the_sensors_metrics() -> None:
    sensors, ticks = run(scenario())
    lookup = {
        s.sensor_id: SensorInfo(s.sensor_id, s.district, s.tile_id, frozenset(s.metrics), s.sensor_type)
        for s in sensors
    }
    for tick in ticks[:12]:
        for emission in tick:
            outcome = parse_message(emission.payload, topic=emission.topic, lookup=lookup.get, received_at=emission.at)
            assert outcome.rejects == []
            sensor_id = emission.topic.split("/")[2]
            assert {r.metric for r in outcome.readings} == set(lookup[sensor_id].metrics)


def test_no_pressure_outside_the_supply_window_and_the_tank_drains() -> None:
    sensors, ticks = run(scenario())
    for sensor in (s for s in sensors if s.sensor_type == "water"):
        points = series(ticks, sensor)
        dry = [(at, doc) for at, doc in points if not water_supplied(sensor, at)]
        wet = [(at, doc) for at, doc in points if water_supplied(sensor, at)]
        assert dry
        assert wet
        assert all(value(doc, "water_pressure") < 0.05 for _, doc in dry)
        assert all(value(doc, "water_pressure") > 1.0 for _, doc in wet)
        levels = [value(doc, "tank_level") for _, doc in points]
        assert min(levels) < max(levels)  # fills and drains


def test_power_outage_zeroes_voltage_only_while_it_lasts() -> None:
    outage = {"kind": "power_outage", "after_hours": 6, "duration_hours": 4, "share": 1.0}
    sensors, ticks = run(scenario(events=[outage]))
    for sensor in (s for s in sensors if s.sensor_type == "power"):
        for at, doc in series(ticks, sensor):
            hours = (at - START).total_seconds() / 3600
            if 6 <= hours < 10:
                assert doc["mains_voltage"] == 0.0
            else:
                assert 180 < doc["mains_voltage"] < 260


def test_tremor_tilts_and_rain_floods() -> None:
    events = [
        {"kind": "tremor", "after_hours": 12, "share": 1.0, "tilt_degrees_per_hour": 0.5},
        {"kind": "rain", "after_hours": 6, "duration_hours": 3, "rise_m_per_hour": 0.2},
    ]
    sensors, ticks = run(scenario(events=events))
    structure = next(s for s in sensors if s.sensor_type == "structure")
    tilts = [(at, doc["tilt"]) for at, doc in series(ticks, structure)]
    before = [t for at, t in tilts if at < START + timedelta(hours=12)]
    after = [t for at, t in tilts if at >= START + timedelta(hours=20)]
    assert max(before) < 0.5 < min(after)
    flood = next(s for s in sensors if s.sensor_type == "flood")
    levels = {at: doc["flood_level"] for at, doc in series(ticks, flood)}
    assert levels[START + timedelta(hours=8, minutes=50)] > 0.4
    assert levels[START + timedelta(hours=2)] < 0.05


def test_silent_sensors_stop_and_malformed_share_is_respected() -> None:
    s = scenario(events=[{"kind": "silent", "after_hours": 12, "share": 1.0}], malformed_share=0.1)
    _, ticks = run(s)
    assert all(not tick for tick in ticks[12 * 6 :])
    emissions = [e for tick in ticks for e in tick]
    malformed = [e for e in emissions if e.malformed]
    assert 0.05 < len(malformed) / len(emissions) < 0.15
    assert all(e.readings == 0 for e in malformed)


def test_malformed_payloads_are_refused_by_the_parser() -> None:
    sensors, ticks = run(scenario(malformed_share=0.3))
    lookup = {
        s.sensor_id: SensorInfo(s.sensor_id, s.district, s.tile_id, frozenset(Metric), s.sensor_type) for s in sensors
    }
    for emission in (e for tick in ticks[:6] for e in tick if e.malformed):
        with pytest.raises(Rejected):
            parse_message(emission.payload, topic=emission.topic, lookup=lookup.get, received_at=emission.at)
