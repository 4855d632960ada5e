import base64
from datetime import UTC, datetime

from stream.decode import decode
from vigia.contracts import Metric, Reading


def test_readings_decode_and_anything_else_becomes_a_dead_letter_with_its_bytes() -> None:
    good = Reading(
        sensor_id="s1", district="sjl", tile_id="17/1/1", metric=Metric.TILT, value=1.0, unit="deg",
        event_time=datetime(2026, 1, 1, tzinfo=UTC), received_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip
    readings, letters = decode([good.to_json(), b"{not json", b'{"sensor_id": "s1"}', None])
    assert readings == [good]
    assert [letter.reason for letter in letters] == ["unreadable_record"] * 3
    assert base64.b64decode(letters[0].payload_b64) == b"{not json"
    assert "district" in letters[1].detail
