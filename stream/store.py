"""SQL for the stream: readings by COPY, windows and alerts by upsert, all in the caller's transaction.

Readings are copied into a session-local staging table and moved into the hypertable with
`ON CONFLICT DO NOTHING RETURNING`: the database's natural key (sensor, metric, event
time) decides which readings are new, and only those are folded into windows. A batch
replayed after a crash therefore adds no row and counts nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import psycopg

from vigia.contracts import HousingContext, Reading
from vigia.stream.panes import Pane
from vigia.stream.window_book import HoppingRow, Key, PaneRow

READING_COLUMNS = "time, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id"

STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS readings_staging
    AS SELECT {READING_COLUMNS} FROM readings WITH NO DATA
"""  # noqa: S608  # constant column list


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def insert_readings(conn: psycopg.AsyncConnection, readings: Sequence[Reading]) -> set[str]:
    """Store the batch; returns the ids of readings the database did not have."""
    if not readings:
        return set()
    await conn.execute(STAGING)
    await conn.execute("TRUNCATE readings_staging")
    async with conn.cursor() as cur:
        async with cur.copy(f"COPY readings_staging ({READING_COLUMNS}) FROM STDIN") as copy:
            for r in readings:
                await copy.write_row(
                    (r.event_time, r.sensor_id, r.metric.value, r.value, r.unit, r.reading_id, r.received_at,
                     r.district, r.tile_id)
                )  # fmt: skip
        await cur.execute(
            f"""INSERT INTO readings ({READING_COLUMNS})
                SELECT DISTINCT ON (sensor_id, metric, time) {READING_COLUMNS}
                FROM readings_staging ORDER BY sensor_id, metric, time
                ON CONFLICT (sensor_id, metric, time) DO NOTHING
                RETURNING reading_id"""  # noqa: S608  # column list is a constant
        )
        return {str(row[0]) for row in await cur.fetchall()}


async def mark_late(conn: psycopg.AsyncConnection, readings: Sequence[Reading]) -> None:
    """Flag readings that were stored but came too late for their windows."""
    if readings:
        await conn.execute(
            """UPDATE readings r SET late = true
               FROM unnest(%s::text[], %s::text[], %s::timestamptz[]) AS l(sensor_id, metric, time)
               WHERE r.sensor_id = l.sensor_id AND r.metric = l.metric AND r.time = l.time""",
            ([r.sensor_id for r in readings], [r.metric.value for r in readings], [r.event_time for r in readings]),
        )


def _housing(housing: HousingContext) -> tuple[object, ...]:
    return (
        housing.embedding_id,
        housing.model_version,
        housing.land_use_class,
        housing.housing_score,
        housing.precarious_share,
    )


async def upsert_panes(conn: psycopg.AsyncConnection, rows: Sequence[tuple[PaneRow, HousingContext]]) -> None:
    if not rows:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO readings_1m
                   (bucket, sensor_id, metric, count, min, max, mean, last, last_event_time, mad, sum, last_key,
                    sample_keys, sample_values, district, tile_id,
                    embedding_id, model_version, land_use_class, housing_score, precarious_share)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (sensor_id, metric, bucket) DO UPDATE SET
                   count = EXCLUDED.count, min = EXCLUDED.min, max = EXCLUDED.max, mean = EXCLUDED.mean,
                   last = EXCLUDED.last, last_event_time = EXCLUDED.last_event_time, mad = EXCLUDED.mad,
                   sum = EXCLUDED.sum, last_key = EXCLUDED.last_key, sample_keys = EXCLUDED.sample_keys,
                   sample_values = EXCLUDED.sample_values, embedding_id = EXCLUDED.embedding_id,
                   model_version = EXCLUDED.model_version, land_use_class = EXCLUDED.land_use_class,
                   housing_score = EXCLUDED.housing_score, precarious_share = EXCLUDED.precarious_share,
                   updated_at = now()""",
            [
                (
                    _ts(row.start), row.key[0], row.key[1], row.summary.count, row.summary.min, row.summary.max,
                    row.summary.mean, row.summary.last, _ts(row.summary.last_ts), row.summary.mad, row.pane.sum,
                    row.pane.last_key, [k for k, _ in row.pane.sample], [v for _, v in row.pane.sample],
                    row.place.district, row.place.tile_id, *_housing(housing),
                )
                for row, housing in rows
            ],
        )  # fmt: skip


async def upsert_hopping(conn: psycopg.AsyncConnection, rows: Sequence[tuple[HoppingRow, HousingContext]]) -> None:
    if not rows:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO readings_15m
                   (window_end, sensor_id, metric, count, min, max, mean, last, mad, last_event_time,
                    district, tile_id, embedding_id, model_version, land_use_class, housing_score, precarious_share)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (sensor_id, metric, window_end) DO UPDATE SET
                   count = EXCLUDED.count, min = EXCLUDED.min, max = EXCLUDED.max, mean = EXCLUDED.mean,
                   last = EXCLUDED.last, mad = EXCLUDED.mad, last_event_time = EXCLUDED.last_event_time,
                   embedding_id = EXCLUDED.embedding_id, model_version = EXCLUDED.model_version,
                   land_use_class = EXCLUDED.land_use_class, housing_score = EXCLUDED.housing_score,
                   precarious_share = EXCLUDED.precarious_share, updated_at = now()""",
            [
                (
                    _ts(row.end), row.key[0], row.key[1], row.summary.count, row.summary.min, row.summary.max,
                    row.summary.mean, row.summary.last, row.summary.mad, _ts(row.summary.last_ts),
                    row.place.district, row.place.tile_id, *_housing(housing),
                )
                for row, housing in rows
            ],
        )  # fmt: skip


async def load_panes(
    conn: psycopg.AsyncConnection, keys: Iterable[Key], *, since: float
) -> dict[Key, tuple[dict[float, Pane], float | None]]:
    """The panes of these sensors and metrics from `since` on, as they were stored."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    cur = await conn.execute(
        """SELECT sensor_id, metric, extract(epoch FROM bucket), count, min, max, sum, last,
                  extract(epoch FROM last_event_time), last_key, sample_keys, sample_values
           FROM readings_1m
           JOIN unnest(%s::text[], %s::text[]) AS k(sensor_id, metric) USING (sensor_id, metric)
           WHERE bucket >= %s AND sum IS NOT NULL""",
        ([k[0] for k in wanted], [k[1] for k in wanted], _ts(since)),
    )
    found: dict[Key, tuple[dict[float, Pane], float | None]] = {key: ({}, None) for key in wanted}
    for sensor, metric, start, count, lo, hi, total, last, last_ts, last_key, keys_, values in await cur.fetchall():
        panes, newest = found[(sensor, metric)]
        panes[float(start)] = Pane(
            count=count, min=lo, max=hi, sum=total, last=last, last_ts=float(last_ts), last_key=last_key or -1,
            sample=list(zip(keys_ or [], values or [], strict=True)),
        )  # fmt: skip
        found[(sensor, metric)] = (panes, max(float(last_ts), newest) if newest is not None else float(last_ts))
    return found
