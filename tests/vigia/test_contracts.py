from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from vigia.contracts import DISTRICT_PATTERN, Metric, Reading

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


@pytest.mark.parametrize("slug", ["san-juan-de-lurigancho", "villa_el_salvador", "ate", "d1"])
def test_one_district_slug_everywhere_a_district_is_named(slug: str) -> None:
    from api.params import DISTRICT_EXAMPLE
    from api.provisioning import validate
    from simulate.scenario import DistrictSpec
    from vigia.topics import TELEMETRY_PATTERN, telemetry_topic

    validate("s-01", "water", slug, -12.0, -77.0)  # registration takes it
    match = TELEMETRY_PATTERN.match(telemetry_topic(slug, "s-01"))  # the bridge reads its topic
    assert match is not None
    assert match["district"] == slug
    DistrictSpec(slug=slug, code="x", latitude=-12.0, longitude=-77.0)  # a scenario may name it
    assert re.fullmatch(DISTRICT_PATTERN, DISTRICT_EXAMPLE)


@pytest.mark.parametrize("slug", ["Comas", "-ate", "san juan", "", "x" * 65])
def test_what_is_not_a_district_slug_is_refused_alike(slug: str) -> None:
    from api.provisioning import ProvisioningError, validate
    from vigia.topics import TELEMETRY_PATTERN, telemetry_topic

    assert re.fullmatch(DISTRICT_PATTERN, slug) is None
    assert TELEMETRY_PATTERN.match(telemetry_topic(slug, "s-01")) is None
    with pytest.raises(ProvisioningError):
        validate("s-01", "water", slug, -12.0, -77.0)
