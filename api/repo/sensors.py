"""SQL of sensors: the registry as the API shows it, latest readings and windows, series and uptime."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.repo.rows import IN_DISTRICTS, all_rows, present


async def sensor(conn: AsyncConnection, *, sensor_id: str) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT sensor_id, sensor_type, district, latitude, longitude, tile_id, place, metrics, revoked_at
           FROM sensors WHERE sensor_id = %(sensor_id)s""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchone()


LATEST_READING = ("metric", "value", "unit", "time", "received_at", "reading_id", "raw_value", "calibration")
LATEST_WINDOW = ("metric", "bucket", "count", "min", "max", "mean", "last", "embedding_id", "model_version",
                 "land_use_class", "housing_score")  # fmt: skip


Latest = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]
LATEST_HEAD = ("sensor_id", "sensor_type", "district", "tile_id", "latitude", "longitude")


async def latest_of(conn: AsyncConnection, sensor_ids: Sequence[str]) -> dict[str, Latest]:
    """Each registered sensor's row with the newest reading and one-minute window of each metric it declares.

    Primary-key reads of `sensor_latest`, which the stream keeps as it stores readings and
    windows, joined with the registry: the hypertables are not touched. Several sensors at
    once, for the requests that arrive together (see `api/coalesce.py`); an unknown id is
    left out.
    """
    cur = await conn.execute(
        """SELECT s.sensor_id, s.sensor_type, s.district, s.tile_id, s.latitude, s.longitude,
                  l.metric, l.value, l.unit, l.time, l.received_at, l.reading_id::text, l.raw_value, l.calibration,
                  l.metric, l.bucket, l.count, l.min, l.max, l.mean, l.last, l.embedding_id, l.model_version,
                  l.land_use_class, l.housing_score
           FROM sensors s
           LEFT JOIN sensor_latest l ON l.sensor_id = s.sensor_id AND l.metric = ANY(s.metrics)
           WHERE s.sensor_id = ANY(%(sensor_ids)s) ORDER BY s.sensor_id, l.metric""",
        {"sensor_ids": list(sensor_ids)},
    )
    found: dict[str, Latest] = {}
    for sensor_id, group in groupby(await cur.fetchall(), key=itemgetter(0)):
        rows = list(group)
        head = dict(zip(LATEST_HEAD, rows[0][:6], strict=True))
        readings = [dict(zip(LATEST_READING, row[6:14], strict=True)) for row in rows if row[9] is not None]
        windows = [dict(zip(LATEST_WINDOW, row[14:], strict=True)) for row in rows if row[15] is not None]
        found[sensor_id] = head, readings, windows
    return found


async def sensors(
    conn: AsyncConnection,
    *,
    districts: list[str] | None,
    district: str | None,
    sensor_id: str | None,
    limit: int,
    offset: int,
) -> list[dict[str, Any]]:
    """Registered sensors with when each was last heard of (within the last day)."""
    return await all_rows(
        conn,
        f"""SELECT s.sensor_id, s.sensor_type, s.district, s.latitude, s.longitude, s.tile_id, s.place, s.metrics,
                  s.created_at, s.revoked_at, seen.last_seen
           FROM sensors s
           LEFT JOIN LATERAL (
               SELECT max(last_event_time) AS last_seen FROM readings_1m r
               WHERE r.sensor_id = s.sensor_id AND r.bucket > now() - interval '1 day'
           ) seen ON true
           WHERE {IN_DISTRICTS} AND (%(district)s::text IS NULL OR s.district = %(district)s)
             AND (%(sensor_id)s::text IS NULL OR s.sensor_id = %(sensor_id)s)
           ORDER BY s.district, s.sensor_id LIMIT %(limit)s OFFSET %(offset)s""",
        {"districts": districts, "district": district, "sensor_id": sensor_id, "limit": limit, "offset": offset},
    )


SERIES_ONE_MINUTE = """SELECT extract(epoch FROM bucket)::bigint AS t, count AS c, min AS lo, max AS hi, mean AS m,
                             last AS l
                      FROM readings_1m
                      WHERE sensor_id = %(sensor)s AND metric = %(metric)s AND bucket >= %(start)s AND bucket < %(end)s
                      ORDER BY bucket"""


SERIES_BUCKETED = """SELECT extract(epoch FROM time_bucket(%(bucket)s, bucket))::bigint AS t, sum(count)::int AS c,
                           min(min) AS lo, max(max) AS hi, sum(mean * count) / nullif(sum(count), 0) AS m,
                           last(last, bucket) AS l
                    FROM readings_1m
                    WHERE sensor_id = %(sensor)s AND metric = %(metric)s AND bucket >= %(start)s AND bucket < %(end)s
                    GROUP BY 1 ORDER BY 1"""


async def series_columns(
    conn: AsyncConnection, *, sensor_id: str, metric: str, start: datetime, end: datetime, bucket: timedelta
) -> str:
    """One-minute windows re-bucketed to `bucket`, as the JSON text of an object of columns.

    `{"points": n, "time": [epoch seconds...], "count": [...], "min", "max", "mean", "last"}`.
    The database writes the JSON: a month of minutes is 43,200 rows, and turning them into
    Python objects and back took longer than the query and held the event loop meanwhile.
    """
    rows = SERIES_ONE_MINUTE if bucket == timedelta(minutes=1) else SERIES_BUCKETED
    cur = await conn.execute(
        f"""SELECT json_build_object(
                'points', count(*), 'time', coalesce(json_agg(t), '[]'), 'count', coalesce(json_agg(c), '[]'),
                'min', coalesce(json_agg(lo), '[]'), 'max', coalesce(json_agg(hi), '[]'),
                'mean', coalesce(json_agg(m), '[]'), 'last', coalesce(json_agg(l), '[]'))::text
            FROM ({rows}) AS windows""",
        {"sensor": sensor_id, "metric": metric, "start": start, "end": end, "bucket": bucket},
    )
    row = present(await cur.fetchone(), "the series aggregate")
    return str(row[0])


async def uptime(conn: AsyncConnection, *, sensor_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per day, the minutes in which the sensor sent anything."""
    return await all_rows(
        conn,
        """SELECT time_bucket('1 day', bucket) AS day, count(DISTINCT bucket)::int AS minutes
           FROM readings_1m WHERE sensor_id = %(sensor)s AND bucket >= %(start)s AND bucket < %(end)s
           GROUP BY day ORDER BY day""",
        {"sensor": sensor_id, "start": start, "end": end},
    )


async def name_place(conn: AsyncConnection, *, sensor_id: str, place: str) -> bool:
    """Set how neighbours name where a sensor stands; False if there is no such sensor."""
    cur = await conn.execute(
        "UPDATE sensors SET place = %(place)s WHERE sensor_id = %(sensor_id)s", {"place": place, "sensor_id": sensor_id}
    )
    return cur.rowcount > 0


async def add_calibration(
    conn: AsyncConnection, *, sensor_id: str, metric: str, gain: float, offset: float, note: str, by: str
) -> dict[str, Any]:
    """A new version of the sensor's calibration for `metric`, numbered after the last one."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        f"""INSERT INTO sensor_calibrations (sensor_id, metric, version, gain, offset_value, note, set_by)
            SELECT %(sensor_id)s, %(metric)s, coalesce(max(version), 0) + 1, %(gain)s, %(offset)s, %(note)s, %(by)s
            FROM sensor_calibrations WHERE sensor_id = %(sensor_id)s AND metric = %(metric)s
            RETURNING {CALIBRATION_COLUMNS}""",  # a constant column list
        {"sensor_id": sensor_id, "metric": metric, "gain": gain, "offset": offset, "note": note, "by": by},
    )
    row = await cur.fetchone()
    if row is None:  # pragma: no cover  # INSERT ... SELECT of an aggregate always gives a row
        raise RuntimeError("calibration not recorded")
    return row


async def calibrations(conn: AsyncConnection, *, sensor_id: str) -> list[dict[str, Any]]:
    """Every version of every metric's calibration, newest first."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        f"""SELECT {CALIBRATION_COLUMNS} FROM sensor_calibrations
            WHERE sensor_id = %s ORDER BY metric, version DESC""",  # a constant column list
        (sensor_id,),
    )
    return await cur.fetchall()


CALIBRATION_COLUMNS = "sensor_id, metric, version, gain, offset_value AS offset, note, set_by, set_at"
