from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import cbor2
import pytest

from ingest.payload import MAX_PAYLOAD_BYTES, Outcome, SensorInfo, parse_message, parse_topic
from ingest.rejection import Rejected
from tests.ingest.corpus import BadCase, bad_cases
from vigia.contracts import Metric, Reading
from vigia.reading_records import FlatReading

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TOPIC = "vigia/comas/comas-water-01/telemetry"
SENSORS = {
    s.sensor_id: s
    for s in (
        SensorInfo("comas-water-01", "comas", "17/37497/69915", frozenset({Metric.WATER_PRESSURE}), "water"),
        SensorInfo("comas-power-01", "comas", "17/37497/69916", frozenset({Metric.MAINS_VOLTAGE}), "power"),
        SensorInfo("comas-gw-01", "comas", "17/37497/69917", frozenset(), "gateway"),
        SensorInfo("ate-power-01", "ate", "17/37500/69930", frozenset({Metric.MAINS_VOLTAGE}), "power"),
    )
}


def parse(document: object, *, topic: str = TOPIC) -> Outcome:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_message(body, topic=topic, lookup=SENSORS.get, received_at=NOW)


def readings(document: object, **kwargs: str) -> list[FlatReading]:
    outcome = parse(document, **kwargs)
    assert outcome.rejects == []
    return outcome.readings


def reason_of(document: object, **kwargs: str) -> str:
    with pytest.raises(Rejected) as caught:
        parse(document, **kwargs)
    return caught.value.reason


def test_topic_names_district_and_sensor() -> None:
    address = parse_topic(TOPIC)
    assert (address.district, address.sensor_id) == ("comas", "comas-water-01")


@pytest.mark.parametrize(
    "topic",
    ["vigia/comas/comas-water-01", "vigia/Comas/x/telemetry", "other/comas/x/telemetry", "vigia/comas/x/y/telemetry"],
)
def test_topics_outside_the_scheme_are_refused(topic: str) -> None:
    with pytest.raises(Rejected) as caught:
        parse_topic(topic)
    assert caught.value.reason == "bad_topic"


def test_plain_form_gives_one_reading_per_metric_in_canonical_units() -> None:
    found = readings({"ts": "2026-03-02T09:59:30-05:00", "water_pressure": 1.4, "tank_level": 55})
    assert {(r.metric, r.value, r.unit) for r in found} == {
        (Metric.WATER_PRESSURE, 1.4, "bar"),
        (Metric.TANK_LEVEL, 55.0, "%"),
    }
    assert all(r.event_time == datetime(2026, 3, 2, 14, 59, 30, tzinfo=UTC) for r in found)
    assert all(r.tile_id == "17/37497/69915" and r.received_at == NOW.timestamp() for r in found)


def test_values_form_and_epoch_seconds() -> None:
    [reading] = readings({"ts": NOW.timestamp() - 10, "values": {"water_pressure": 0.0}})
    assert reading.value == 0.0
    assert reading.event_time == NOW - timedelta(seconds=10)


def test_senml_pack_with_base_name_time_and_unit_conversion() -> None:
    pack = [
        {"bn": "comas-water-01:", "bt": NOW.timestamp(), "bu": "kPa", "n": "water_pressure", "v": 140},
        {"n": "water_pressure", "t": -60, "v": 20},
        {"n": "tank_level", "u": "/", "v": 0.5},
    ]
    found = readings(pack)
    assert [(r.metric, round(r.value, 6), r.event_time) for r in found] == [
        (Metric.WATER_PRESSURE, 1.4, NOW),
        (Metric.WATER_PRESSURE, 0.2, NOW - timedelta(seconds=60)),
        (Metric.TANK_LEVEL, 50.0, NOW),
    ]


def test_senml_relative_time_is_relative_to_reception() -> None:
    [reading] = readings([{"n": "water_pressure", "u": "psi", "v": 20, "t": -30}])
    assert reading.event_time == NOW - timedelta(seconds=30)
    assert reading.value == pytest.approx(1.378951, rel=1e-6)


def test_gateway_carries_readings_of_sensors_in_its_district() -> None:
    found = readings(
        {
            "readings": [
                {"sensor_id": "comas-water-01", "ts": NOW.isoformat(), "water_pressure": 1.1},
                {"sensor_id": "comas-power-01", "ts": NOW.isoformat(), "values": {"mains_voltage": 219}},
            ]
        },
        topic="vigia/comas/comas-gw-01/telemetry",
    )
    assert [(r.sensor_id, r.metric, r.tile_id) for r in found] == [
        ("comas-water-01", Metric.WATER_PRESSURE, "17/37497/69915"),
        ("comas-power-01", Metric.MAINS_VOLTAGE, "17/37497/69916"),
    ]


def test_gateway_reading_for_another_district_is_refused_alone() -> None:
    outcome = parse(
        {
            "readings": [
                {"sensor_id": "comas-power-01", "ts": NOW.isoformat(), "mains_voltage": 221},
                {"sensor_id": "ate-power-01", "ts": NOW.isoformat(), "mains_voltage": 221},
            ]
        },
        topic="vigia/comas/comas-gw-01/telemetry",
    )
    assert [r.sensor_id for r in outcome.readings] == ["comas-power-01"]
    assert [e.reason for e in outcome.rejects] == ["wrong_district"]


def test_only_a_gateway_may_carry_other_sensors() -> None:
    pack = [{"n": "comas-power-01:mains_voltage", "v": 220}]
    assert reason_of(pack) == "not_gateway"


def test_one_bad_record_does_not_sink_the_good_ones() -> None:
    outcome = parse({"ts": NOW.isoformat(), "water_pressure": 1.2, "tank_level": 250})
    assert [r.metric for r in outcome.readings] == [Metric.WATER_PRESSURE]
    assert [e.reason for e in outcome.rejects] == ["out_of_range"]


@pytest.mark.parametrize("case", bad_cases(NOW), ids=lambda case: case.name)
def test_bad_payloads_name_their_reason(case: BadCase) -> None:
    with pytest.raises(Rejected) as caught:
        parse_message(
            case.payload_for("comas-power-01"),
            topic=case.topic_for("comas", "comas-water-01"),
            lookup=SENSORS.get,
            received_at=NOW,
        )
    assert caught.value.reason == case.reason


def test_the_corpus_is_large_and_covers_every_reason() -> None:
    cases = bad_cases(NOW)
    assert len(cases) >= 30
    assert len({c.payload for c in cases}) == len(cases)
    assert {c.reason for c in cases} >= {
        "bad_utf8", "bad_json", "not_finite", "bad_shape", "bad_time", "unknown_metric", "bad_value",
        "out_of_range", "future_time", "stale_time", "too_large", "bad_senml", "unknown_unit",
        "not_gateway", "bad_topic", "unregistered", "wrong_district",
    }  # fmt: skip


def test_oversized_payload_is_refused_before_decoding() -> None:
    assert reason_of(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}") == "too_large"


def test_unregistered_sensor_is_refused() -> None:
    assert reason_of({"ts": NOW.isoformat(), "flow": 1.0}, topic="vigia/comas/ghost-01/telemetry") == "unregistered"


def test_sensor_publishing_under_another_district_is_refused() -> None:
    document = {"ts": NOW.isoformat(), "water_pressure": 1.0}
    assert reason_of(document, topic="vigia/ate/comas-water-01/telemetry") == "wrong_district"


def test_several_problems_are_all_named() -> None:
    with pytest.raises(Rejected) as caught:
        parse({"ts": NOW.isoformat(), "water_pressure": 99, "radiation": 1})
    assert caught.value.reason == "out_of_range"
    assert "radiation" in caught.value.detail


def test_senml_in_cbor_gives_what_the_same_pack_in_json_gives() -> None:
    base = NOW.timestamp() - 60
    as_json = [
        {"bn": "comas-water-01:", "bt": base, "bu": "kPa", "n": "water_pressure", "v": 140},
        {"n": "water_pressure", "t": 30, "v": 150.5},
    ]
    as_cbor = cbor2.dumps([{-2: "comas-water-01:", -3: base, -4: "kPa", 0: "water_pressure", 2: 140},
                           {0: "water_pressure", 6: 30, 2: 150.5}])  # fmt: skip
    assert as_cbor[0] == 0x82  # a two-record array: never the first byte of JSON
    assert len(as_cbor) < len(json.dumps(as_json))
    assert readings(as_cbor) == readings(as_json)
    assert [r.value for r in readings(as_cbor)] == pytest.approx([1.4, 1.505])


def test_a_cbor_byte_string_value_crosses_as_the_json_form_carries_it() -> None:
    from ingest.senml_cbor import decode

    assert decode(cbor2.dumps([{0: "blob", 8: b"\xfb\xff"}])) == [{"n": "blob", "vd": "-_8"}]


def test_a_calibrated_metric_gives_the_corrected_value_and_keeps_the_raw_one() -> None:
    from dataclasses import replace

    from ingest.calibration import Calibration

    water = replace(
        SENSORS["comas-water-01"],
        metrics=frozenset({Metric.WATER_PRESSURE, Metric.TANK_LEVEL}),
        calibrations={Metric.WATER_PRESSURE: Calibration(version=3, gain=1.1, offset=-0.05)},
    )
    lookup = {**SENSORS, water.sensor_id: water}.get
    body = json.dumps({"ts": NOW.timestamp() - 5, "water_pressure": 1.5, "tank_level": 40}).encode()
    found = parse_message(body, topic=TOPIC, lookup=lookup, received_at=NOW).readings
    by_metric = {r.metric: r for r in found}
    pressure, tank = by_metric[Metric.WATER_PRESSURE], by_metric[Metric.TANK_LEVEL]
    assert (pressure.value, pressure.raw_value, pressure.calibration) == (pytest.approx(1.6), 1.5, 3)
    assert (tank.value, tank.raw_value, tank.calibration) == (40.0, None, None)
    assert pressure.reading_id == replace_reading_id(pressure)  # the id does not depend on the value

    too_much = replace(water, calibrations={Metric.TANK_LEVEL: Calibration(version=1, gain=3.0)})
    with pytest.raises(Rejected) as caught:
        parse_message(
            json.dumps({"ts": NOW.timestamp(), "tank_level": 40}).encode(), topic=TOPIC,
            lookup={**SENSORS, water.sensor_id: too_much}.get, received_at=NOW,
        )  # fmt: skip
    assert caught.value.reason == "out_of_range"


def replace_reading_id(reading: FlatReading) -> str:
    from vigia.contracts import reading_id

    return reading_id(reading.sensor_id, reading.metric, reading.event_time)


@pytest.mark.parametrize("ts", [1772463570, 1772463570.5, 1772463570.123456, "2026-03-02T09:59:30.000001-05:00"])
def test_the_parser_gives_a_reading_the_id_its_contract_gives(ts: float | str) -> None:
    """Re-deliveries are dropped by id, so the bridge's flat readings must carry the very id
    the validated contract computes from the same sensor, metric and time."""
    (flat,) = readings({"ts": ts, "water_pressure": 1.4})
    contract = Reading(
        sensor_id=flat.sensor_id, district=flat.district, tile_id=flat.tile_id, metric=Metric(flat.metric),
        value=flat.value, unit=flat.unit, event_time=flat.event_time, received_at=NOW,
    )  # fmt: skip
    assert flat.reading_id == contract.reading_id
    assert FlatReading.of(contract) == flat
