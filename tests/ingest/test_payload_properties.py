"""Property-based tests of the payload parser: whatever arrives, a reading or a reason, never a crash."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.metrics import SPECS
from ingest.payload import MAX_FUTURE, MAX_PAST, Outcome, parse_message
from ingest.rejection import Rejected
from tests.ingest.test_payload import NOW, SENSORS, TOPIC
from vigia.contracts import Metric

REASON = re.compile(r"^[a-z][a-z0-9_]*$")
JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=15), children, max_size=5),
    max_leaves=25,
)
TOPICS = st.sampled_from([TOPIC, "vigia/comas/comas-gw-01/telemetry", "vigia/ate/comas-water-01/telemetry", "x/y"])


def parse_or_refuse(body: bytes, topic: str = TOPIC) -> Outcome | Rejected:
    try:
        return parse_message(body, topic=topic, lookup=SENSORS.get, received_at=NOW)
    except Rejected as refused:
        return refused


def well_explained(result: Outcome | Rejected) -> None:
    problems = [result] if isinstance(result, Rejected) else result.rejects
    for problem in problems:
        assert REASON.match(problem.reason), problem.reason
        assert problem.detail


@settings(max_examples=300)
@given(body=st.binary(max_size=4096), topic=TOPICS)
def test_any_bytes_are_read_or_refused_with_a_reason(body: bytes, topic: str) -> None:
    well_explained(parse_or_refuse(body, topic))


@settings(max_examples=300)
@given(document=JSON, topic=TOPICS)
def test_any_json_document_is_read_or_refused_with_a_reason(document: object, topic: str) -> None:
    well_explained(parse_or_refuse(json.dumps(document).encode(), topic))


@settings(max_examples=200)
@given(
    document=st.dictionaries(
        st.sampled_from(["ts", "water_pressure", "readings", "sensor_id", "bn", "v", "n"]), JSON, max_size=4
    ),
)
def test_near_miss_documents_are_read_or_refused_with_a_reason(document: dict[str, object]) -> None:
    well_explained(parse_or_refuse(json.dumps(document).encode()))


pressure = SPECS[Metric.WATER_PRESSURE]


@given(
    value=st.floats(min_value=pressure.low, max_value=pressure.high, allow_nan=False),
    offset=st.timedeltas(min_value=-MAX_PAST + timedelta(seconds=1), max_value=MAX_FUTURE),
)
def test_a_plausible_reading_arrives_unchanged(value: float, offset: timedelta) -> None:
    at = (NOW + offset).replace(microsecond=0)
    result = parse_or_refuse(json.dumps({"ts": at.isoformat(), "water_pressure": value}).encode())
    assert isinstance(result, Outcome), result
    [reading] = result.readings
    assert (reading.sensor_id, reading.metric, reading.value, reading.event_time) == (
        "comas-water-01", Metric.WATER_PRESSURE, value, at,
    )  # fmt: skip


@given(value=st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not pressure.low <= v <= pressure.high))
def test_an_implausible_value_is_refused_not_stored(value: float) -> None:
    body = json.dumps({"ts": NOW.isoformat(), "water_pressure": value}).encode()
    result = parse_or_refuse(body)
    assert isinstance(result, Rejected)
    assert result.reason in {"out_of_range", "not_finite", "bad_json", "bad_value"}


@settings(max_examples=200)
@given(
    values=st.lists(st.floats(min_value=pressure.low, max_value=pressure.high), min_size=1, max_size=20),
    step=st.integers(min_value=1, max_value=600),
)
def test_a_senml_pack_yields_one_reading_per_record_at_its_own_time(values: list[float], step: int) -> None:
    base = int((NOW - timedelta(seconds=len(values) * step + 60)).timestamp())  # the whole pack in the past
    pack = [{"bn": "comas-water-01:", "bt": base, "n": "water_pressure", "u": "bar", "v": values[0]}]
    pack += [{"n": "water_pressure", "u": "bar", "t": i * step, "v": v} for i, v in enumerate(values[1:], start=1)]
    result = parse_or_refuse(json.dumps(pack).encode())
    assert isinstance(result, Outcome), result
    assert [r.value for r in result.readings] == values
    assert [int(r.event_time.timestamp()) - base for r in result.readings] == [i * step for i in range(len(values))]
