from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from vigia.contracts import Metric, Reading

BASE = {
    "sensor_id": "s1",
    "district": "ate",
    "tile_id": "17/1/1",
    "metric": "mains_voltage",
    "value": 221.0,
    "unit": "V",
    "event_time": "2026-03-02T10:00:00-05:00",
    "received_at": "2026-03-02T15:00:01Z",
}


def test_times_are_normalised_to_utc() -> None:
    reading = Reading.model_validate(BASE)
    assert reading.event_time == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert reading.event_time.utcoffset() == timedelta(0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValidationError):
        Reading.model_validate({**BASE, "event_time": "2026-03-02T10:00:00"})


def test_non_finite_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        Reading.model_validate({**BASE, "value": float("nan")})


def test_reading_id_is_stable_across_redelivery_and_differs_by_time() -> None:
    first = Reading.model_validate(BASE)
    again = Reading.model_validate_json(first.model_dump_json())
    later = Reading.model_validate({**BASE, "event_time": "2026-03-02T10:00:01-05:00"})
    assert first.reading_id == again.reading_id
    assert first.reading_id != later.reading_id
    same_instant = Reading.model_validate(
        {**BASE, "event_time": datetime(2026, 3, 2, 16, tzinfo=timezone(timedelta(hours=1)))}
    )
    assert same_instant.reading_id == first.reading_id


def test_metric_names_are_the_wire_names() -> None:
    assert Metric("pm25") is Metric.PM25


def test_fast_json_is_the_same_document() -> None:
    import json

    reading = Reading.model_validate(BASE)
    assert Reading.model_validate_json(reading.to_json()) == reading
    assert json.loads(reading.to_json()).keys() == json.loads(reading.model_dump_json()).keys()
