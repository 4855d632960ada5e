"""The readings topic's record: every reading of one sensor that one bridge flush took in.

Owner: the ingest bridge. Keyed by `sensor_id`, so a sensor's records keep their order on
one partition. One record per sensor per flush, not one per reading: the stream pays
Faust's per-record cost (tens of microseconds) once for a sensor's readings of a batch,
and a SenML pack of many readings crosses Kafka as the one record it already was.

Encoded as MessagePack by msgspec, against the `Struct`s below: about half the bytes of
the JSON a reading used to be, and decoded and type-checked in C into the objects the
stream folds, with no dict in between. Each reading keeps its own id, so duplicates are
still dropped by reading, and the dead letters are unchanged.

Times are epoch seconds as floats (microseconds are exact in a float64 until 2255).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import msgspec

from vigia.contracts import Metric, Reading

METRICS = frozenset(m.value for m in Metric)
MAX_READINGS = 500
"""Readings a record holds at most (about 35 KB): a gateway's burst of buffered packs must not
make a record larger than Kafka accepts (1 MiB by default), which would stop the bridge."""


class RecordError(ValueError):
    """A record on the readings topic that is not one; the message says why, in one line."""


class Measurement(msgspec.Struct, array_like=True, frozen=True, gc=False):
    """One reading inside a record, as a MessagePack array (the field names are not sent)."""

    reading_id: str
    metric: str
    value: float
    unit: str
    event_time: float
    received_at: float
    raw_value: float | None = None  # what the sensor sent, when its calibration changed it
    calibration: int | None = None


class SensorReadings(msgspec.Struct, frozen=True, gc=False):
    """The record: a sensor, where it is, and its readings in the order the bridge took them."""

    sensor_id: str
    district: str
    tile_id: str
    readings: list[Measurement]


class FlatReading(msgspec.Struct, frozen=True, gc=False):
    """One reading with its sensor and place: what the bridge builds, and what the stream
    folds, judges and stores.

    A slotted struct rather than a validated model: a bridge or a worker makes tens of
    thousands a second, and each field was checked once, by the bridge's parser.
    """

    sensor_id: str
    district: str
    tile_id: str
    metric: str
    value: float
    unit: str
    ts: float  # event time, epoch seconds
    received_at: float
    reading_id: str
    raw_value: float | None = None
    calibration: int | None = None

    @property
    def event_time(self) -> datetime:
        return datetime.fromtimestamp(self.ts, UTC)

    @classmethod
    def of(cls, reading: Reading) -> FlatReading:
        """What a validated reading becomes once it has crossed the readings topic."""
        return cls(reading.sensor_id, reading.district, reading.tile_id, reading.metric.value, reading.value,
                   reading.unit, reading.event_time.timestamp(), reading.received_at.timestamp(),
                   reading.reading_id, reading.raw_value, reading.calibration)  # fmt: skip


R = TypeVar("R", FlatReading, Reading)

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(SensorReadings)


def encode(readings: Sequence[FlatReading | Reading]) -> bytes:
    """One sensor's readings as one record; they must all be of that one sensor."""
    if not readings:
        raise ValueError("a record carries at least one reading")
    flat = [r if isinstance(r, FlatReading) else FlatReading.of(r) for r in readings]
    first = flat[0]
    if any(r.sensor_id != first.sensor_id for r in flat):
        raise ValueError(f"a record carries one sensor's readings, not {sorted({r.sensor_id for r in flat})}")
    return _encoder.encode(
        SensorReadings(
            first.sensor_id,
            first.district,
            first.tile_id,
            [Measurement(r.reading_id, r.metric, r.value, r.unit, r.ts, r.received_at, r.raw_value, r.calibration)
             for r in flat],
        )
    )  # fmt: skip


def by_sensor(readings: Iterable[R]) -> list[tuple[str, list[R]]]:
    """(sensor, readings) of each record to write: a sensor's readings in the order given, split
    every `MAX_READINGS`."""
    grouped: dict[str, list[R]] = {}
    for reading in readings:
        grouped.setdefault(reading.sensor_id, []).append(reading)
    return [
        (sensor, own[start : start + MAX_READINGS])
        for sensor, own in grouped.items()
        for start in range(0, len(own), MAX_READINGS)
    ]


def decode(value: bytes | None) -> list[FlatReading]:
    """A record's readings, flat; `RecordError` says why a record is not one."""
    if not value:
        raise RecordError("empty record")
    try:
        record = _decoder.decode(value)
    except msgspec.ValidationError as error:
        raise RecordError(f"not a readings record: {error}") from error
    except msgspec.DecodeError as error:
        raise RecordError(f"not MessagePack: {error}") from error
    if not record.readings:
        raise RecordError(f"record of {record.sensor_id!r} carries no reading")
    sensor, district, tile = record.sensor_id, record.district, record.tile_id
    flat = []
    for m in record.readings:
        if m.metric not in METRICS:
            raise RecordError(f"reading {m.reading_id} of {sensor!r}: unknown metric {m.metric!r}")
        if not (math.isfinite(m.value) and math.isfinite(m.event_time)):
            raise RecordError(f"reading {m.reading_id} of {sensor!r}: {m.metric} at {m.event_time} is not finite")
        flat.append(FlatReading(sensor, district, tile, m.metric, m.value, m.unit, m.event_time, m.received_at,
                                m.reading_id, m.raw_value, m.calibration))  # fmt: skip
    return flat
