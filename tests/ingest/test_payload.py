from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from vigia.contracts import Metric
from vigia.ingest.payload import MAX_PAYLOAD_BYTES, PayloadError, SensorInfo, parse_plain, parse_topic

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TOPIC = "vigia/comas/comas-water-01/telemetry"
SENSOR = SensorInfo(
    sensor_id="comas-water-01",
    district="comas",
    tile_id="17/37497/69915",
    metrics=frozenset({Metric.WATER_PRESSURE, Metric.TANK_LEVEL}),
)


def parse(document: object, *, topic: str = TOPIC, sensor: SensorInfo | None = SENSOR) -> list:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return parse_plain(body, topic=topic, sensor=sensor, received_at=NOW)


def reason_of(document: object, **kwargs: object) -> str:
    with pytest.raises(PayloadError) as caught:
        parse(document, **kwargs)  # type: ignore[arg-type]
    return caught.value.reason


def test_topic_names_district_and_sensor() -> None:
    address = parse_topic(TOPIC)
    assert (address.district, address.sensor_id) == ("comas", "comas-water-01")


@pytest.mark.parametrize(
    "topic",
    ["vigia/comas/comas-water-01", "vigia/Comas/x/telemetry", "other/comas/x/telemetry", "vigia/comas/x/y/telemetry"],
)
def test_topics_outside_the_scheme_are_refused(topic: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_topic(topic)
    assert caught.value.reason == "bad_topic"


def test_flat_form_gives_one_reading_per_metric_in_canonical_units() -> None:
    readings = parse({"ts": "2026-03-02T09:59:30-05:00", "water_pressure": 1.4, "tank_level": 55})
    assert {(r.metric, r.value, r.unit) for r in readings} == {
        (Metric.WATER_PRESSURE, 1.4, "bar"),
        (Metric.TANK_LEVEL, 55.0, "%"),
    }
    assert all(r.event_time == datetime(2026, 3, 2, 14, 59, 30, tzinfo=UTC) for r in readings)
    assert all(r.tile_id == SENSOR.tile_id and r.received_at == NOW for r in readings)


def test_values_form_and_epoch_seconds() -> None:
    [reading] = parse({"ts": NOW.timestamp() - 10, "values": {"water_pressure": 0.0}})
    assert reading.value == 0.0
    assert reading.event_time == NOW - timedelta(seconds=10)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b"\xff\xfe not utf-8", "bad_utf8"),
        (b"{not json", "bad_json"),
        (b'{"ts": 1, "water_pressure": NaN}', "not_finite"),
        (b'{"ts": 1, "water_pressure": Infinity}', "not_finite"),
        ([1, 2], "bad_shape"),
        ({"water_pressure": 1.0}, "bad_time"),
        ({"ts": "yesterday", "water_pressure": 1.0}, "bad_time"),
        ({"ts": "2026-03-02T10:00:00", "water_pressure": 1.0}, "bad_time"),
        ({"ts": True, "water_pressure": 1.0}, "bad_time"),
        ({"ts": "2026-03-02T15:00:00Z"}, "bad_shape"),
        ({"ts": "2026-03-02T15:00:00Z", "radiation": 1.0}, "unknown_metric"),
        ({"ts": "2026-03-02T15:00:00Z", "water_pressure": "1.2"}, "bad_value"),
        ({"ts": "2026-03-02T15:00:00Z", "water_pressure": True}, "bad_value"),
        ({"ts": "2026-03-02T16:00:00Z", "water_pressure": 1.0}, "future_time"),
        ({"ts": "2026-02-01T15:00:00Z", "water_pressure": 1.0}, "stale_time"),
    ],
)
def test_bad_payloads_name_their_reason(document: object, reason: str) -> None:
    assert reason_of(document) == reason


def test_oversized_payload_is_refused_before_decoding() -> None:
    assert reason_of(b"{" + b" " * MAX_PAYLOAD_BYTES + b"}") == "too_large"


def test_unregistered_sensor_is_refused() -> None:
    assert reason_of({"ts": NOW.isoformat(), "water_pressure": 1.0}, sensor=None) == "unregistered"


def test_sensor_publishing_under_another_district_is_refused() -> None:
    assert reason_of({"ts": NOW.isoformat(), "water_pressure": 1.0}, topic="vigia/ate/comas-water-01/telemetry") == (
        "wrong_district"
    )
