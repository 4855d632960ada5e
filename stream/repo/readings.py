"""The stream's SQL for readings, windows and offsets, all in the caller's transaction.

Readings are copied into a session-local staging table and moved into the hypertable with
`ON CONFLICT DO NOTHING RETURNING`: the database's natural key (sensor, metric, event
time) decides which readings are new, and only those are folded into windows. A batch
replayed after a crash therefore adds no row and counts nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from stream.panes import Pane, pack_sample, unpack_sample
from stream.window_book import HoppingRow, Key, PaneRow
from vigia.contracts import HousingContext
from vigia.reading_records import FlatReading

READING_COLUMNS = (
    "time, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id, raw_value, calibration"
)
PANE_COLUMNS = (
    "bucket, sensor_id, metric, count, min, max, mean, last, last_event_time, mad, sum, last_key, sample,"
    " district, tile_id, embedding_id, model_version, land_use_class, housing_score, precarious_share"
)
HOPPING_COLUMNS = (
    "window_end, sensor_id, metric, count, min, max, mean, last, mad, last_event_time, district, tile_id,"
    " embedding_id, model_version, land_use_class, housing_score, precarious_share"
)
_HOUSING_TYPES = ["text", "text", "text", "float8", "float8"]
PANE_TYPES = [
    "timestamptz", "text", "text", "int4", "float8", "float8", "float8", "float8", "timestamptz", "float8", "float8",
    "int8", "bytea", "text", "text", *_HOUSING_TYPES,
]  # fmt: skip
HOPPING_TYPES = [
    "timestamptz", "text", "text", "int4", "float8", "float8", "float8", "float8", "float8", "timestamptz", "text",
    "text", *_HOUSING_TYPES,
]  # fmt: skip


STAGED_COLUMNS = (
    "ts, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id, raw_value, calibration"
)
STAGED_TYPES = ["float8", "text", "text", "float8", "text", "text", "float8", "text", "text", "float8", "int4"]
READINGS_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS readings_in (ts float8, sensor_id text, metric text, value float8, unit text,"
    " reading_id text, received_at float8, district text, tile_id text, raw_value float8, calibration int4);"
    " TRUNCATE readings_in"
)


# sensor_latest: the newest reading and window of each sensor and metric, for the API.
LATEST_READING = "sensor_id, metric, time, value, unit, received_at, reading_id, raw_value, calibration"
LATEST_WINDOW = (
    "sensor_id, metric, bucket, count, min, max, mean, last, embedding_id, model_version, land_use_class, housing_score"
)


def _excluded(columns: str, key: str = "sensor_id, metric") -> str:
    """`c = EXCLUDED.c` for each column but the key's, for `ON CONFLICT DO UPDATE SET`."""
    keys = {c.strip() for c in key.split(",")}
    return ", ".join(f"{c} = EXCLUDED.{c}" for c in (c.strip() for c in columns.split(",")) if c not in keys)


def timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def _copy_to_staging(
    cur: psycopg.AsyncCursor[Any], table: str, columns: str, rows: Iterable[Sequence[object]], types: Sequence[str]
) -> str:
    """COPY rows into a session-local empty copy of `table`; returns the staging table's name.

    One COPY and one set-based statement cost the database far less than a statement per
    row, which is what lets a batch of thousands of readings and windows fit in a fraction
    of a second on a small machine.
    """
    staging = f"{table}_staging"
    await cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} AS SELECT {columns} FROM {table} WITH NO DATA;"  # noqa: S608  # constant names
        f" TRUNCATE {staging}"
    )
    # Binary, with the types given: psycopg formats each value in C instead of as text in Python.
    async with cur.copy(f"COPY {staging} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            await copy.write_row(row)
    return staging


async def _upsert(
    conn: psycopg.AsyncConnection,
    table: str,
    key: str,
    columns: str,
    types: Sequence[str],
    rows: Sequence[Sequence[object]],
    then: str = "",
) -> None:
    """Insert rows or overwrite the stored ones with the same key: each row is the window's whole state.

    `then` is more SQL sent with it, which may read the rows from `{staging}`.
    """
    if not rows:
        return
    updates = _excluded(columns, key)
    async with conn.cursor() as cur:
        staging = await _copy_to_staging(cur, table, columns, rows, types)
        await cur.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"  # noqa: S608  # constant names
            f" ON CONFLICT ({key}) DO UPDATE SET {updates}, updated_at = now(){then.format(staging=staging)}"
        )


async def insert_readings(conn: psycopg.AsyncConnection, readings: Sequence[FlatReading]) -> set[str]:
    """Store the batch; returns the ids of readings the database did not have.

    Event and receipt times cross as epoch seconds in a binary COPY and become timestamps
    in the database: making a datetime for each reading and formatting it as text cost
    more than the rest of the insert.
    """
    if not readings:
        return set()
    async with conn.cursor() as cur:
        await cur.execute(READINGS_STAGING)
        async with cur.copy(f"COPY readings_in ({STAGED_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(STAGED_TYPES)
            for r in readings:
                row = (r.ts, r.sensor_id, r.metric, r.value, r.unit, r.reading_id, r.received_at, r.district,
                       r.tile_id, r.raw_value, r.calibration)  # fmt: skip
                await copy.write_row(row)
        await cur.execute(
            f"""WITH stored AS (
                    INSERT INTO readings ({READING_COLUMNS})
                    SELECT DISTINCT ON (sensor_id, metric, ts) to_timestamp(ts), sensor_id, metric, value, unit,
                           reading_id::uuid, to_timestamp(received_at), district, tile_id, raw_value, calibration
                    FROM readings_in ORDER BY sensor_id, metric, ts
                    ON CONFLICT (sensor_id, metric, time) DO NOTHING
                    RETURNING {READING_COLUMNS}
                ), newest AS (
                    INSERT INTO sensor_latest AS l ({LATEST_READING})
                    SELECT DISTINCT ON (sensor_id, metric) {LATEST_READING} FROM stored
                    ORDER BY sensor_id, metric, time DESC
                    ON CONFLICT (sensor_id, metric) DO UPDATE SET {_excluded(LATEST_READING)}
                    WHERE l.time IS NULL OR EXCLUDED.time > l.time
                )
                SELECT reading_id::text FROM stored"""  # noqa: S608  # column lists are constants
        )
        return {row[0] for row in await cur.fetchall()}


async def save_offsets(
    conn: psycopg.AsyncConnection, *, group: str, topic: str, next_offsets: Mapping[int, int]
) -> None:
    """Record where each partition resumes, in the transaction that made its records durable.

    The new value replaces the old one even when smaller: a batch finishing late after a
    rebalance can only move a partition back, which costs a re-read the readings' natural
    key absorbs, never a skipped record.
    """
    if next_offsets:
        await conn.execute(
            """INSERT INTO stream_offsets (consumer_group, topic, partition, next_offset)
               SELECT %s, %s, p, o FROM unnest(%s::int[], %s::bigint[]) AS t(p, o)
               ON CONFLICT (consumer_group, topic, partition)
               DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()""",
            (group, topic, list(next_offsets), list(next_offsets.values())),
        )


async def load_offsets(conn: psycopg.AsyncConnection, *, group: str, topic: str) -> dict[int, int]:
    cur = await conn.execute(
        "SELECT partition, next_offset FROM stream_offsets WHERE consumer_group = %s AND topic = %s", (group, topic)
    )
    return {int(p): int(o) for p, o in await cur.fetchall()}


async def mark_late(conn: psycopg.AsyncConnection, readings: Sequence[FlatReading]) -> None:
    """Flag readings that were stored but came too late for their windows."""
    if readings:
        await conn.execute(
            """UPDATE readings r SET late = true
               FROM unnest(%s::text[], %s::text[], %s::float8[]) AS l(sensor_id, metric, ts)
               WHERE r.sensor_id = l.sensor_id AND r.metric = l.metric AND r.time = to_timestamp(l.ts)""",
            ([r.sensor_id for r in readings], [r.metric for r in readings], [r.ts for r in readings]),
        )


def _housing(housing: HousingContext) -> tuple[object, ...]:
    return (
        housing.embedding_id,
        housing.model_version,
        housing.land_use_class,
        housing.housing_score,
        housing.precarious_share,
    )


# The newest pane of each key in the batch becomes its latest window, unless one newer is kept.
NEWEST_PANE = f"""; INSERT INTO sensor_latest AS l ({LATEST_WINDOW})
    SELECT DISTINCT ON (sensor_id, metric) {LATEST_WINDOW} FROM {{staging}} ORDER BY sensor_id, metric, bucket DESC
    ON CONFLICT (sensor_id, metric) DO UPDATE SET {_excluded(LATEST_WINDOW)}
    WHERE l.bucket IS NULL OR EXCLUDED.bucket >= l.bucket"""  # noqa: S608  # constant names


async def upsert_panes(conn: psycopg.AsyncConnection, rows: Sequence[tuple[PaneRow, HousingContext]]) -> None:
    await _upsert(
        conn,
        "readings_1m",
        "sensor_id, metric, bucket",
        PANE_COLUMNS,
        PANE_TYPES,
        [
            (
                timestamp(row.start), row.key[0], row.key[1], row.summary.count, row.summary.min, row.summary.max,
                row.summary.mean, row.summary.last, timestamp(row.summary.last_ts), row.summary.mad, row.pane.sum,
                row.pane.last_key, pack_sample(row.pane.sample), row.place.district, row.place.tile_id,
                *_housing(housing),
            )
            for row, housing in rows
        ],
        then=NEWEST_PANE,
    )  # fmt: skip


async def upsert_hopping(conn: psycopg.AsyncConnection, rows: Sequence[tuple[HoppingRow, HousingContext]]) -> None:
    await _upsert(
        conn,
        "readings_15m",
        "sensor_id, metric, window_end",
        HOPPING_COLUMNS,
        HOPPING_TYPES,
        [
            (
                timestamp(row.end), row.key[0], row.key[1], row.summary.count, row.summary.min, row.summary.max,
                row.summary.mean, row.summary.last, row.summary.mad, timestamp(row.summary.last_ts),
                row.place.district, row.place.tile_id, *_housing(housing),
            )
            for row, housing in rows
        ],
    )  # fmt: skip


PANE_STATE = """sensor_id, metric, extract(epoch FROM bucket), count, min, max, sum, last,
                  extract(epoch FROM last_event_time), last_key, sample"""


def _pane(count: int, lo: float, hi: float, total: float, last: float, last_ts: float, last_key: int | None,
          sample: bytes | None) -> Pane:  # fmt: skip
    return Pane(
        count=count, min=lo, max=hi, sum=total, last=last, last_ts=float(last_ts), last_key=last_key or -1,
        sample=unpack_sample(sample),
    )  # fmt: skip


async def load_panes(
    conn: psycopg.AsyncConnection, keys: Iterable[Key], *, since: float
) -> dict[Key, tuple[dict[float, Pane], float | None]]:
    """The panes of these sensors and metrics from `since` on, as they were stored."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    cur = await conn.execute(
        f"""SELECT {PANE_STATE}
           FROM readings_1m
           JOIN unnest(%s::text[], %s::text[]) AS k(sensor_id, metric) USING (sensor_id, metric)
           WHERE bucket >= %s AND sum IS NOT NULL""",  # noqa: S608  # constant column list
        ([k[0] for k in wanted], [k[1] for k in wanted], timestamp(since)),
    )
    found: dict[Key, tuple[dict[float, Pane], float | None]] = {key: ({}, None) for key in wanted}
    for sensor, metric, start, *state in await cur.fetchall():
        panes, newest = found[(sensor, metric)]
        pane = panes[float(start)] = _pane(*state)
        found[(sensor, metric)] = (panes, max(pane.last_ts, newest) if newest is not None else pane.last_ts)
    return found


async def load_pane_spans(
    conn: psycopg.AsyncConnection, spans: Sequence[tuple[Key, float, float]]
) -> dict[Key, dict[float, Pane]]:
    """The stored panes of each (sensor and metric, first pane start, last pane start)."""
    if not spans:
        return {}
    cur = await conn.execute(
        f"""SELECT {PANE_STATE}
           FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                AS q(sensor_id, metric, first_bucket, last_bucket)
           JOIN readings_1m r USING (sensor_id, metric)
           WHERE r.bucket >= q.first_bucket AND r.bucket <= q.last_bucket AND r.sum IS NOT NULL""",  # noqa: S608  # constant column list
        (
            [key[0] for key, _, _ in spans], [key[1] for key, _, _ in spans],
            [timestamp(first) for _, first, _ in spans], [timestamp(last) for _, _, last in spans],
        ),
    )  # fmt: skip
    found: dict[Key, dict[float, Pane]] = {}
    for sensor, metric, start, *state in await cur.fetchall():
        found.setdefault((sensor, metric), {})[float(start)] = _pane(*state)
    return found


async def readings_before(
    conn: psycopg.AsyncConnection, *, spans: Sequence[tuple[str, str, float, float]]
) -> dict[Key, list[tuple[float, float]]]:
    """(event time, value) of each (sensor, metric) from `since` up to, not including, `until`, in event order."""
    if not spans:
        return {}
    cur = await conn.execute(
        """SELECT r.sensor_id, r.metric, extract(epoch FROM r.time), r.value
           FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])
                AS q(sensor_id, metric, since, until)
           JOIN readings r ON r.sensor_id = q.sensor_id AND r.metric = q.metric
                          AND r.time >= q.since AND r.time < q.until
           ORDER BY r.sensor_id, r.metric, r.time""",
        (
            [s[0] for s in spans],
            [s[1] for s in spans],
            [timestamp(s[2]) for s in spans],
            [timestamp(s[3]) for s in spans],
        ),
    )
    found: dict[Key, list[tuple[float, float]]] = {}
    for sensor, metric, at, value in await cur.fetchall():
        found.setdefault((sensor, metric), []).append((float(at), value))
    return found
