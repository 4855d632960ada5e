"""Writes readings and window aggregates to TimescaleDB.

Both writes are idempotent: a reading replayed after a crash meets the natural key
(sensor, metric, time) and is dropped; an aggregate is an upsert of the window's latest
state, so writing it again changes nothing.
"""

from __future__ import annotations

import psycopg

from vigia.contracts import Reading, WindowAggregate
from vigia.settings import Settings

INSERT_READING = """
INSERT INTO readings (time, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id)
VALUES (%(time)s, %(sensor_id)s, %(metric)s, %(value)s, %(unit)s, %(reading_id)s, %(received_at)s,
        %(district)s, %(tile_id)s)
ON CONFLICT (sensor_id, metric, time) DO NOTHING
"""

UPSERT_AGGREGATE = """
INSERT INTO readings_1m (bucket, sensor_id, metric, count, min, max, mean, last, last_event_time,
                         district, tile_id, embedding_id, model_version, land_use_class, housing_score)
VALUES (%(bucket)s, %(sensor_id)s, %(metric)s, %(count)s, %(min)s, %(max)s, %(mean)s, %(last)s,
        %(last_event_time)s, %(district)s, %(tile_id)s, %(embedding_id)s, %(model_version)s,
        %(land_use_class)s, %(housing_score)s)
ON CONFLICT (sensor_id, metric, bucket) DO UPDATE SET
    count = EXCLUDED.count, min = EXCLUDED.min, max = EXCLUDED.max, mean = EXCLUDED.mean,
    last = EXCLUDED.last, last_event_time = EXCLUDED.last_event_time,
    embedding_id = EXCLUDED.embedding_id, model_version = EXCLUDED.model_version,
    land_use_class = EXCLUDED.land_use_class, housing_score = EXCLUDED.housing_score,
    updated_at = now()
"""


def reading_row(reading: Reading) -> dict[str, object]:
    return {
        "time": reading.event_time,
        "sensor_id": reading.sensor_id,
        "metric": reading.metric.value,
        "value": reading.value,
        "unit": reading.unit,
        "reading_id": reading.reading_id,
        "received_at": reading.received_at,
        "district": reading.district,
        "tile_id": reading.tile_id,
    }


def aggregate_row(aggregate: WindowAggregate) -> dict[str, object]:
    return {
        "bucket": aggregate.window_start,
        "sensor_id": aggregate.sensor_id,
        "metric": aggregate.metric.value,
        "count": aggregate.count,
        "min": aggregate.min,
        "max": aggregate.max,
        "mean": aggregate.mean,
        "last": aggregate.last,
        "last_event_time": aggregate.last_event_time,
        "district": aggregate.district,
        "tile_id": aggregate.tile_id,
        "embedding_id": aggregate.housing.embedding_id,
        "model_version": aggregate.housing.model_version,
        "land_use_class": aggregate.housing.land_use_class,
        "housing_score": aggregate.housing.housing_score,
    }


class Sink:
    """One async connection, opened lazily and reopened after the database comes back."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: psycopg.AsyncConnection | None = None

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.settings.db_conninfo)
        return self._conn

    async def write(self, reading: Reading, aggregate: WindowAggregate) -> None:
        conn = await self._connection()
        try:
            async with conn.transaction():
                await conn.execute(INSERT_READING, reading_row(reading))
                await conn.execute(UPSERT_AGGREGATE, aggregate_row(aggregate))
        except psycopg.OperationalError:
            await conn.close()
            raise

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
