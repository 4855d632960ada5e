"""Turns an MQTT message into canonical readings, or says exactly why it cannot.

Pure: no broker, no database. The bridge hands in the topic, the bytes, the time it
received them and what the registry knows of the sensor; it gets readings or a
`PayloadError` whose `reason` names the dead-letter bucket.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vigia.contracts import CANONICAL_UNITS, Metric, Reading

TOPIC_PATTERN = re.compile(
    r"^vigia/(?P<district>[a-z0-9][a-z0-9_-]{0,63})/(?P<sensor>[A-Za-z0-9][A-Za-z0-9_.-]{0,63})/telemetry$"
)
MAX_PAYLOAD_BYTES = 16_384
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)


class PayloadError(ValueError):
    """A message the bridge must dead-letter. `reason` is a short stable code for counters."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class TopicAddress:
    district: str
    sensor_id: str


@dataclass(frozen=True)
class SensorInfo:
    """What the registry knows of a sensor, as far as parsing needs it."""

    sensor_id: str
    district: str
    tile_id: str
    metrics: frozenset[Metric]


def parse_topic(topic: str) -> TopicAddress:
    match = TOPIC_PATTERN.match(topic)
    if not match:
        raise PayloadError("bad_topic", f"topic {topic!r} does not match vigia/{{district}}/{{sensor_id}}/telemetry")
    return TopicAddress(district=match["district"], sensor_id=match["sensor"])


def parse_timestamp(raw: Any) -> datetime:
    """Accept ISO 8601 with an offset, or seconds since the epoch."""
    if isinstance(raw, bool):
        raise PayloadError("bad_time", f"timestamp {raw!r} is not a time")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise PayloadError("bad_time", "timestamp is not finite")
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise PayloadError("bad_time", f"timestamp {raw!r} is out of range") from exc
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise PayloadError("bad_time", f"timestamp {raw!r} is not ISO 8601") from exc
        if parsed.tzinfo is None:
            raise PayloadError("bad_time", f"timestamp {raw!r} has no timezone")
        return parsed.astimezone(UTC)
    raise PayloadError("bad_time", f"timestamp {raw!r} is not a number or string")


def decode_json(payload: bytes) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"{len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError("bad_utf8", f"byte {exc.start} is not UTF-8") from exc
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise PayloadError("bad_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc


def _reject_constant(name: str) -> float:
    raise PayloadError("not_finite", f"{name} is not a measurement")


def parse_plain(
    payload: bytes,
    *,
    topic: str,
    sensor: SensorInfo | None,
    received_at: datetime,
) -> list[Reading]:
    """Parse the plain JSON form: `{"ts": ..., "<metric>": value, ...}` or `{"ts": ..., "values": {...}}`."""
    address = parse_topic(topic)
    if sensor is None:
        raise PayloadError("unregistered", f"sensor {address.sensor_id!r} is not registered")
    if sensor.district != address.district:
        raise PayloadError("wrong_district", f"sensor {sensor.sensor_id!r} belongs to {sensor.district!r}")
    document = decode_json(payload)
    if not isinstance(document, dict):
        raise PayloadError("bad_shape", "payload must be a JSON object")
    if "ts" not in document:
        raise PayloadError("bad_time", "payload has no 'ts'")
    event_time = parse_timestamp(document["ts"])
    if event_time - received_at > MAX_FUTURE:
        raise PayloadError("future_time", f"event time {event_time.isoformat()} is ahead of the bridge clock")
    if received_at - event_time > MAX_PAST:
        raise PayloadError("stale_time", f"event time {event_time.isoformat()} is older than {MAX_PAST.days} days")
    values = document["values"] if "values" in document else {k: v for k, v in document.items() if k != "ts"}
    if not isinstance(values, dict) or not values:
        raise PayloadError("bad_shape", "payload carries no values")
    readings = []
    for name, value in values.items():
        try:
            metric = Metric(name)
        except ValueError as exc:
            raise PayloadError("unknown_metric", f"metric {name!r} is not known") from exc
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise PayloadError("bad_value", f"{name} = {value!r} is not a number")
        if not math.isfinite(value):
            raise PayloadError("not_finite", f"{name} is not finite")
        readings.append(
            Reading(
                sensor_id=sensor.sensor_id,
                district=sensor.district,
                tile_id=sensor.tile_id,
                metric=metric,
                value=float(value),
                unit=CANONICAL_UNITS[metric],
                event_time=event_time,
                received_at=received_at,
            )
        )
    return readings
