import base64
from datetime import UTC, datetime

import msgspec
import pytest

from stream.decode import decode
from vigia.contracts import Metric, Reading
from vigia.reading_records import FlatReading, encode


def reading(second: int, sensor: str = "s1") -> Reading:
    at = datetime(2026, 1, 1, 0, 0, second, 250_000, tzinfo=UTC)
    return Reading(
        sensor_id=sensor, district="sjl", tile_id="17/1/1", metric=Metric.TILT, value=1.0 + second, unit="deg",
        event_time=at, received_at=at,
    )  # fmt: skip


def test_a_record_gives_its_sensors_readings_and_anything_else_a_dead_letter_with_its_bytes() -> None:
    good = [reading(1), reading(2)]
    not_a_record = msgspec.msgpack.encode({"sensor_id": "s1"})
    unknown_metric = msgspec.msgpack.encode(
        {"sensor_id": "s1", "district": "sjl", "tile_id": "17/1/1", "readings": [["id", "colour", 1.0, "", 0.0, 0.0]]}
    )
    readings, letters = decode([encode(good), b"{not msgpack", not_a_record, unknown_metric, None, b'{"a": 1}'])
    assert readings == [FlatReading.of(r) for r in good]
    assert [r.reading_id for r in readings] == [r.reading_id for r in good]  # each keeps its own id
    assert readings[0].event_time == good[0].event_time
    assert [letter.reason for letter in letters] == ["unreadable_record"] * 5
    assert base64.b64decode(letters[0].payload_b64) == b"{not msgpack"
    assert "district" in letters[1].detail
    assert "unknown metric 'colour'" in letters[2].detail
    assert letters[3].detail == "empty record"


def test_a_record_holds_one_sensor_and_is_smaller_than_its_readings_as_json() -> None:
    many = [reading(s) for s in range(10)]
    assert len(encode(many)) < sum(len(r.to_json()) for r in many) / 2
    with pytest.raises(ValueError, match="one sensor"):
        encode([reading(1), reading(2, sensor="s2")])


def test_a_sensors_burst_is_split_into_records_kafka_accepts_in_their_order() -> None:
    from vigia.reading_records import MAX_READINGS, by_sensor
    from vigia.reading_records import decode as decode_record

    burst = [reading(s % 60, sensor="gw-child") for s in range(2 * MAX_READINGS + 7)]
    other = reading(1, sensor="s2")
    records = by_sensor([*burst[:10], other, *burst[10:]])
    assert [(sensor, len(own)) for sensor, own in records] == [
        ("gw-child", MAX_READINGS), ("gw-child", MAX_READINGS), ("gw-child", 7), ("s2", 1),
    ]  # fmt: skip
    encoded = [encode(own) for _, own in records]
    assert max(len(e) for e in encoded) < 100_000  # far below Kafka's 1 MiB
    again = [r.reading_id for e in encoded[:3] for r in decode_record(e)]
    assert again == [r.reading_id for r in burst]
