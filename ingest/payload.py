"""Turns an MQTT message into canonical readings, or says exactly why it cannot.

Pure: no broker, no database. The bridge hands in the topic, the bytes, the time it
received them and a registry look-up; it gets readings and, for anything refused, a
reason code that names the dead-letter bucket.

Three payload forms are accepted:
- plain: `{"ts": ..., "water_pressure": 1.4}` or `{"ts": ..., "values": {...}}`, canonical units;
- SenML (RFC 8428): a JSON array of records, or the same pack in CBOR (section 6, see
  `senml_cbor.py`); names are `metric` or `sensor_id:metric`;
- gateway: `{"readings": [{"sensor_id": ..., "ts": ..., "values": {...}}, ...]}`, from a
  registered gateway carrying readings of sensors in its own district.

A message-level problem (bad topic, JSON, sender) refuses the whole message. A problem in one
record refuses that record only: the good readings beside it go through.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from ingest import senml_cbor
from ingest.calibration import Calibration
from ingest.metrics import METRICS_BY_NAME, canonical
from ingest.rejection import Rejected
from ingest.senml import resolve
from vigia.contracts import CANONICAL_UNITS, Metric, reading_id_at
from vigia.reading_records import FlatReading
from vigia.topics import TELEMETRY_PATTERN, TELEMETRY_TEMPLATE

MAX_PAYLOAD_BYTES = 16_384
MAX_FUTURE = timedelta(minutes=5)
MAX_PAST = timedelta(days=7)
_MAX_FUTURE_S = MAX_FUTURE.total_seconds()
_MAX_PAST_S = MAX_PAST.total_seconds()
GATEWAY_TYPE = "gateway"


class PayloadError(Rejected):
    """A message, or a record in it, that the bridge must dead-letter."""


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
    sensor_type: str = ""
    calibrations: Mapping[Metric, Calibration] = field(default_factory=dict)  # the newest version of each


Lookup = Callable[[str], SensorInfo | None]


@dataclass
class Outcome:
    """What one message became: readings to produce, and the reasons anything was refused.

    The readings are the flat records the readings topic carries: every field was checked
    here, so a validating model on top would only repeat the checks, at several times the
    cost of the parse itself.
    """

    readings: list[FlatReading] = field(default_factory=list)
    rejects: list[Rejected] = field(default_factory=list)


@functools.lru_cache(maxsize=65_536)
def parse_topic(topic: str) -> TopicAddress:
    """A sensor publishes on the same topic every time: each is matched once (a refused one
    raises, and is not remembered)."""
    match = TELEMETRY_PATTERN.match(topic)
    if not match:
        raise PayloadError("bad_topic", f"topic {topic!r} does not match {TELEMETRY_TEMPLATE}")
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
            parsed = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise PayloadError("bad_time", f"timestamp {raw!r} is not ISO 8601") from exc
        if parsed.tzinfo is None:
            raise PayloadError("bad_time", f"timestamp {raw!r} has no timezone")
        return parsed.astimezone(UTC)
    raise PayloadError("bad_time", f"timestamp {raw!r} is not a number or string")


def decode_payload(payload: bytes) -> Any:
    """JSON, or a SenML pack in CBOR (told apart by its first byte, see `senml_cbor`)."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError("too_large", f"{len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if senml_cbor.is_cbor_pack(payload):
        return senml_cbor.decode(payload)
    return decode_json(payload)


def decode_json(payload: bytes) -> Any:
    try:
        return orjson.loads(payload)  # refuses bytes that are not UTF-8; told apart below
    except orjson.JSONDecodeError as exc:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise PayloadError("bad_utf8", f"byte {bad.start} is not UTF-8") from exc
        if b"NaN" in payload or b"Infinity" in payload:
            raise PayloadError("not_finite", "NaN and Infinity are not measurements") from exc
        raise PayloadError("bad_json", str(exc)) from exc


class _Builder:
    """Checks and builds the readings of one message."""

    def __init__(self, received_at: datetime, outcome: Outcome) -> None:
        self.received_at = received_at.timestamp()
        self.outcome = outcome

    def check_time(self, event_time: datetime, ts: float) -> None:
        if ts - self.received_at > _MAX_FUTURE_S:
            raise PayloadError("future_time", f"event time {event_time.isoformat()} is ahead of the bridge clock")
        if self.received_at - ts > _MAX_PAST_S:
            raise PayloadError("stale_time", f"event time {event_time.isoformat()} is older than {MAX_PAST.days} days")

    def add(self, sensor: SensorInfo, name: str, value: Any, unit: str | None, event_time: datetime) -> None:
        try:
            metric = METRICS_BY_NAME.get(name)
            if metric is None:
                raise PayloadError("unknown_metric", f"metric {name!r} is not known")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise PayloadError("bad_value", f"{name} = {value!r} is not a number")
            ts = event_time.timestamp()
            self.check_time(event_time, ts)
            number = canonical(metric, float(value), unit)
            calibration = sensor.calibrations.get(metric)
            raw = version = None
            if calibration is not None:
                raw, number = number, canonical(metric, calibration.apply(number), None)
                version = calibration.version
            sensor_id, name = sensor.sensor_id, metric.value
            self.outcome.readings.append(
                FlatReading(sensor_id, sensor.district, sensor.tile_id, name, number, CANONICAL_UNITS[metric], ts,
                            self.received_at, reading_id_at(sensor_id, name, ts), raw, version)
            )  # fmt: skip
        except Rejected as error:
            self.outcome.rejects.append(error)


def _plain_values(document: dict[str, Any]) -> dict[str, Any]:
    values = document["values"] if "values" in document else {k: v for k, v in document.items() if k != "ts"}
    if not isinstance(values, dict) or not values:
        raise PayloadError("bad_shape", "payload carries no values")
    return values


def _sender(address: TopicAddress, lookup: Lookup) -> SensorInfo:
    sensor = lookup(address.sensor_id)
    if sensor is None:
        raise PayloadError("unregistered", f"sensor {address.sensor_id!r} is not registered")
    if sensor.district != address.district:
        raise PayloadError("wrong_district", f"sensor {sensor.sensor_id!r} belongs to {sensor.district!r}")
    return sensor


def _carried(sender: SensorInfo, sensor_id: str, lookup: Lookup) -> SensorInfo:
    """The sensor whose reading `sender` carries: itself, or for a gateway one of its district."""
    if sensor_id in ("", sender.sensor_id):
        return sender
    if sender.sensor_type != GATEWAY_TYPE:
        raise PayloadError("not_gateway", f"{sender.sensor_id!r} is not a gateway and cannot carry {sensor_id!r}")
    sensor = lookup(sensor_id)
    if sensor is None:
        raise PayloadError("unregistered", f"sensor {sensor_id!r} is not registered")
    if sensor.district != sender.district:
        raise PayloadError("wrong_district", f"sensor {sensor_id!r} is not in {sender.district!r}")
    return sensor


def _split_name(name: str) -> tuple[str, str]:
    """`sjl-water-01:water_pressure` -> (`sjl-water-01`, `water_pressure`); a bare name has no sensor."""
    for separator in (":", "/"):
        if separator in name:
            sensor, _, metric = name.rpartition(separator)
            return sensor, metric
    return "", name


def parse_message(payload: bytes, *, topic: str, lookup: Lookup, received_at: datetime) -> Outcome:
    """Parse any accepted form. Raises `Rejected` when nothing in the message can be accepted."""
    address = parse_topic(topic)
    sender = _sender(address, lookup)
    document = decode_payload(payload)
    outcome = Outcome()
    builder = _Builder(received_at, outcome)
    if isinstance(document, list):
        records = resolve(document, now=received_at.timestamp())
        for record in records:
            sensor_id, metric = _split_name(record.name)
            try:
                sensor = _carried(sender, sensor_id, lookup)
                event_time = datetime.fromtimestamp(record.time, UTC)
            except PayloadError as error:
                outcome.rejects.append(error)
                continue
            except (OverflowError, OSError, ValueError):
                outcome.rejects.append(PayloadError("bad_time", f"{record.name}: time {record.time!r} is out of range"))
                continue
            builder.add(sensor, metric, record.value, record.unit, event_time)
    elif isinstance(document, dict) and "readings" in document:
        items = document["readings"]
        if not isinstance(items, list) or not items:
            raise PayloadError("bad_shape", "gateway payload needs a non-empty 'readings' list")
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict) or not isinstance(item.get("sensor_id"), str):
                    raise PayloadError("bad_shape", f"reading {index} needs a 'sensor_id'")
                sensor = _carried(sender, item["sensor_id"], lookup)
                event_time = parse_timestamp(item.get("ts"))
                values = _plain_values({k: v for k, v in item.items() if k != "sensor_id"})
            except PayloadError as error:
                outcome.rejects.append(error)
                continue
            for name, value in values.items():
                builder.add(sensor, name, value, None, event_time)
    elif isinstance(document, dict):
        if "ts" not in document:
            raise PayloadError("bad_time", "payload has no 'ts'")
        event_time = parse_timestamp(document["ts"])
        for name, value in _plain_values(document).items():
            builder.add(sender, name, value, None, event_time)
    else:
        raise PayloadError("bad_shape", "payload must be a JSON object or a SenML array")
    if not outcome.readings and outcome.rejects:
        first = outcome.rejects[0]
        if len(outcome.rejects) == 1:
            raise first
        raise PayloadError(first.reason, "; ".join(e.detail for e in outcome.rejects))
    return outcome
