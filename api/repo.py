"""All SQL the API runs, as functions with keyword-only arguments."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import dict_row


class NoRow(RuntimeError):
    """A statement that always answers a row answered none: the database is not the one we migrated."""


def _present(row: Any, what: str) -> Any:
    if row is None:
        raise NoRow(f"{what} returned no row")
    return row


async def now(conn: AsyncConnection) -> datetime:
    """The database's clock, the one `recorded_at` is written by."""
    row = _present(await (await conn.execute("SELECT now()")).fetchone(), "SELECT now()")
    value: datetime = row[0]
    return value


async def ping(conn: AsyncConnection) -> bool:
    row = await (await conn.execute("SELECT 1")).fetchone()
    return row is not None


async def sensor(conn: AsyncConnection, *, sensor_id: str) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics, revoked_at
           FROM sensors WHERE sensor_id = %(sensor_id)s""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchone()


async def latest_readings(conn: AsyncConnection, *, sensor_id: str) -> list[dict[str, Any]]:
    """The newest reading of each of the sensor's metrics.

    One backward index scan with LIMIT 1 per metric: it stops at the newest chunk holding a
    row, where DISTINCT ON would read every row the sensor ever sent.
    """
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT r.metric, r.value, r.unit, r.time, r.received_at, r.reading_id::text AS reading_id
           FROM sensors s CROSS JOIN LATERAL unnest(s.metrics) AS m(metric)
           CROSS JOIN LATERAL (
               SELECT metric, value, unit, time, received_at, reading_id FROM readings
               WHERE sensor_id = s.sensor_id AND metric = m.metric ORDER BY time DESC LIMIT 1
           ) r
           WHERE s.sensor_id = %(sensor_id)s ORDER BY r.metric""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchall()


async def latest_windows(conn: AsyncConnection, *, sensor_id: str) -> list[dict[str, Any]]:
    """The newest one-minute window of each metric, found the same way as the latest readings."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT w.* FROM sensors s CROSS JOIN LATERAL unnest(s.metrics) AS m(metric)
           CROSS JOIN LATERAL (
               SELECT metric, bucket, count, min, max, mean, last, embedding_id, model_version, land_use_class,
                      housing_score
               FROM readings_1m WHERE sensor_id = s.sensor_id AND metric = m.metric ORDER BY bucket DESC LIMIT 1
           ) w
           WHERE s.sensor_id = %(sensor_id)s ORDER BY w.metric""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchall()


async def api_key(conn: AsyncConnection, *, key_id: str) -> dict[str, Any] | None:
    """An active key's role, district and secret hash; revoked and expired keys are not found."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT key_id, secret_sha256, role, district, name FROM api_keys WHERE key_id = %(key_id)s"
        " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
        {"key_id": key_id},
    )
    return await cur.fetchone()


async def _all(conn: AsyncConnection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(query, params)
    return await cur.fetchall()


async def _one(conn: AsyncConnection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    rows = await _all(conn, query, params)
    return rows[0] if rows else None


def in_districts(column: str = "district") -> str:
    """The filter keeping a leader to their district: `districts` None reads all, a list only those."""
    return f"(%(districts)s::text[] IS NULL OR {column} = ANY(%(districts)s::text[]))"


IN_DISTRICTS = in_districts()


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
    return await _all(
        conn,
        f"""SELECT s.sensor_id, s.sensor_type, s.district, s.latitude, s.longitude, s.tile_id, s.metrics,
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
    row = _present(await cur.fetchone(), "the series aggregate")
    return str(row[0])


async def uptime(conn: AsyncConnection, *, sensor_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per day, the minutes in which the sensor sent anything."""
    return await _all(
        conn,
        """SELECT time_bucket('1 day', bucket) AS day, count(DISTINCT bucket)::int AS minutes
           FROM readings_1m WHERE sensor_id = %(sensor)s AND bucket >= %(start)s AND bucket < %(end)s
           GROUP BY day ORDER BY day""",
        {"sensor": sensor_id, "start": start, "end": end},
    )


ASSESSMENT_COLUMNS = """tile_id, district, time AS assessed_at, model_version, land_use_class, class_probability,
                        housing_score, precarious_share, sub_tiles, features, source"""


async def tile_assessment(conn: AsyncConnection, *, tile_id: str) -> dict[str, Any] | None:
    """The newest assessment of a tile, by any model."""
    return await _one(
        conn,
        f"""SELECT {ASSESSMENT_COLUMNS} FROM tile_assessments WHERE tile_id = %(tile)s
            ORDER BY time DESC, computed_at DESC LIMIT 1""",
        {"tile": tile_id},
    )


async def tile_sensors(conn: AsyncConnection, *, tile_id: str) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT sensor_id, sensor_type, district, latitude, longitude, metrics FROM sensors
           WHERE tile_id = %(tile)s AND revoked_at IS NULL ORDER BY sensor_id""",
        {"tile": tile_id},
    )


async def district_tiles(conn: AsyncConnection, *, district: str, zoom: int) -> list[dict[str, Any]]:
    """Each tile of the district at the sensor zoom: newest assessment, sensors and open alerts."""
    return await _all(
        conn,
        """WITH tiles AS (
               SELECT tile_id FROM sensors WHERE district = %(district)s AND revoked_at IS NULL
               UNION
               SELECT tile_id FROM tile_assessments WHERE district = %(district)s AND zoom = %(zoom)s
           )
           SELECT t.tile_id, a.land_use_class, a.housing_score, a.model_version, a.assessed_at,
                  coalesce(s.sensors, 0) AS sensors, coalesce(o.open_alerts, 0) AS open_alerts,
                  coalesce(o.critical, 0) AS critical_alerts
           FROM tiles t
           LEFT JOIN LATERAL (
               SELECT land_use_class, housing_score, model_version, time AS assessed_at FROM tile_assessments
               WHERE tile_id = t.tile_id ORDER BY time DESC, computed_at DESC LIMIT 1
           ) a ON true
           LEFT JOIN (
               SELECT tile_id, count(*)::int AS sensors FROM sensors
               WHERE district = %(district)s AND revoked_at IS NULL GROUP BY tile_id
           ) s USING (tile_id)
           LEFT JOIN (
               SELECT tile_id, count(*)::int AS open_alerts,
                      (count(*) FILTER (WHERE severity = 'critical'))::int AS critical
               FROM alerts WHERE district = %(district)s AND state <> 'resolved' GROUP BY tile_id
           ) o USING (tile_id)
           ORDER BY t.tile_id""",
        {"district": district, "zoom": zoom},
    )


async def districts(conn: AsyncConnection, *, districts: list[str] | None, zoom: int) -> list[dict[str, Any]]:
    """Each district's sensors (registered, heard in the last 15 minutes), open alerts and housing."""
    return await _all(
        conn,
        f"""WITH d AS (SELECT DISTINCT district FROM sensors WHERE {IN_DISTRICTS})
           SELECT d.district,
                  (SELECT count(*) FROM sensors s WHERE s.district = d.district AND s.revoked_at IS NULL)::int
                      AS sensors,
                  (SELECT count(DISTINCT sensor_id) FROM readings_1m r
                    WHERE r.district = d.district AND r.bucket > now() - interval '15 minutes')::int
                      AS sensors_reporting,
                  (SELECT count(*) FROM alerts a WHERE a.district = d.district AND a.state <> 'resolved')::int
                      AS open_alerts,
                  (SELECT count(*) FROM alerts a WHERE a.district = d.district AND a.state <> 'resolved'
                     AND a.severity = 'critical')::int AS critical_alerts,
                  (SELECT avg(housing_score) FROM (
                       SELECT DISTINCT ON (tile_id) housing_score FROM tile_assessments t
                       WHERE t.district = d.district AND t.zoom = %(zoom)s ORDER BY tile_id, time DESC) h)
                      AS mean_housing_score
           FROM d ORDER BY d.district""",
        {"districts": districts, "zoom": zoom},
    )


def alert_columns(table: str = "") -> str:
    names = """rule sensor_id metric district tile_id severity state opened_at updated_at resolved_at acknowledged_at
               acknowledged_by note value detail title_es title_en model_version land_use_class housing_score"""
    return ", ".join([f"{table}alert_id::text AS alert_id", *(f"{table}{name}" for name in names.split())])


ALERT_COLUMNS = alert_columns()


async def alerts(
    conn: AsyncConnection,
    *,
    districts: list[str] | None,
    district: str | None,
    severities: list[str] | None,
    states: list[str] | None,
    sensor_id: str | None,
    tile_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; `until` pages back (pass the last row's opened_at)."""
    return await _all(
        conn,
        f"""SELECT {ALERT_COLUMNS} FROM alerts
            WHERE {IN_DISTRICTS}
              AND (%(district)s::text IS NULL OR district = %(district)s)
              AND (%(severities)s::text[] IS NULL OR severity = ANY(%(severities)s::text[]))
              AND (%(states)s::text[] IS NULL OR state = ANY(%(states)s::text[]))
              AND (%(sensor)s::text IS NULL OR sensor_id = %(sensor)s)
              AND (%(tile)s::text IS NULL OR tile_id = %(tile)s)
              AND (%(since)s::timestamptz IS NULL OR opened_at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR opened_at < %(until)s)
            ORDER BY opened_at DESC, alert_id LIMIT %(limit)s""",
        {
            "districts": districts, "district": district, "severities": severities, "states": states,
            "sensor": sensor_id, "tile": tile_id, "since": since, "until": until, "limit": limit,
        },
    )  # fmt: skip


async def alert(conn: AsyncConnection, *, alert_id: UUID) -> dict[str, Any] | None:
    return await _one(conn, f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = %(id)s", {"id": alert_id})


async def alert_history(conn: AsyncConnection, *, alert_id: UUID) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT time, change, severity, state, value, detail FROM alert_events
           WHERE alert_id = %(id)s ORDER BY time, recorded_at""",
        {"id": alert_id},
    )


async def change_alert(
    conn: AsyncConnection, *, alert_id: UUID, change: str, by: str, note: str
) -> dict[str, Any] | None:
    """Acknowledge or resolve an alert by hand, with the event the alerts topic is fed from.

    Returns the alert as it now stands, or None if it was not in a state the change applies
    to (acknowledging needs 'open'; resolving anything not yet resolved).
    """
    allowed_from = ["open"] if change == "acknowledged" else ["open", "acknowledged"]
    async with conn.transaction():
        row = await _one(
            conn,
            f"""UPDATE alerts SET
                    state = %(state)s, note = %(note)s, updated_at = now(),
                    acknowledged_at = CASE WHEN %(state)s = 'acknowledged' THEN now() ELSE acknowledged_at END,
                    acknowledged_by = CASE WHEN %(state)s = 'acknowledged' THEN %(by)s ELSE acknowledged_by END,
                    resolved_at = CASE WHEN %(state)s = 'resolved' THEN now() ELSE resolved_at END
                WHERE alert_id = %(id)s AND state = ANY(%(from)s)
                RETURNING {ALERT_COLUMNS}""",
            {"id": alert_id, "state": change, "note": note, "by": by, "from": allowed_from},
        )
        if row is not None:
            await conn.execute(
                """INSERT INTO alert_events (time, alert_id, change, severity, state, value, detail)
                   VALUES (now(), %(id)s, %(change)s, %(severity)s, %(state)s, %(value)s, %(note)s)""",
                {"id": alert_id, "change": change, "severity": row["severity"], "state": row["state"],
                 "value": row["value"], "note": f"{by}: {note}" if note else by},
            )  # fmt: skip
    return row


async def alert_changes(
    conn: AsyncConnection, *, after: datetime, districts: list[str] | None, limit: int = 500
) -> list[dict[str, Any]]:
    """Alert changes recorded after `after`, oldest first, each with its alert as it now stands."""
    return await _all(
        conn,
        f"""SELECT e.recorded_at, e.change, e.time AS changed_at, e.detail AS change_detail,
                   {alert_columns("a.")}
            FROM alert_events e JOIN alerts a USING (alert_id)
            WHERE e.recorded_at > %(after)s AND {in_districts("a.district")}
            ORDER BY e.recorded_at LIMIT %(limit)s""",
        {"after": after, "districts": districts, "limit": limit},
    )


async def priority_inputs(
    conn: AsyncConnection, *, districts: list[str] | None, start: datetime, end: datetime, zoom: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tiles with their newest assessment, alert spans clipped to the period) for the ranking."""
    tiles = await _all(
        conn,
        f"""WITH tiles AS (
                SELECT tile_id, district FROM sensors WHERE revoked_at IS NULL AND {IN_DISTRICTS}
                UNION
                SELECT tile_id, district FROM tile_assessments
                WHERE zoom = %(zoom)s AND district IS NOT NULL AND {IN_DISTRICTS}
            )
            SELECT t.tile_id, t.district, a.housing_score, coalesce(a.land_use_class, 'unassessed') AS land_use_class
            FROM tiles t LEFT JOIN LATERAL (
                SELECT housing_score, land_use_class FROM tile_assessments
                WHERE tile_id = t.tile_id ORDER BY time DESC, computed_at DESC LIMIT 1
            ) a ON true""",
        {"districts": districts, "zoom": zoom},
    )
    spans = await _all(
        conn,
        f"""SELECT tile_id, rule, severity, state <> 'resolved' AS open,
                   extract(epoch FROM least(coalesce(resolved_at, %(end)s), %(end)s) - greatest(opened_at, %(start)s))
                       / 3600.0 AS hours
            FROM alerts
            WHERE {IN_DISTRICTS} AND opened_at < %(end)s AND coalesce(resolved_at, %(end)s) > %(start)s""",
        {"districts": districts, "start": start, "end": end},
    )
    return tiles, spans


async def service_samples(
    conn: AsyncConnection, *, district: str, metric: str, start: datetime, end: datetime
) -> list[tuple[str, str, datetime, float]]:
    """(sensor, tile, minute, highest value in that minute) for every sensor of the district, in time order.

    The highest value: a minute counts as without service only if the service never came back in it.
    """
    cur = await conn.execute(
        """SELECT sensor_id, tile_id, bucket, max FROM readings_1m
           WHERE district = %(district)s AND metric = %(metric)s AND bucket >= %(start)s AND bucket < %(end)s
           ORDER BY sensor_id, bucket""",
        {"district": district, "metric": metric, "start": start, "end": end},
    )
    return await cur.fetchall()


async def district_exists(conn: AsyncConnection, *, district: str) -> bool:
    cur = await conn.execute("SELECT 1 FROM sensors WHERE district = %(d)s LIMIT 1", {"d": district})
    return await cur.fetchone() is not None


SUBSCRIPTION_COLUMNS = """subscription_id::text AS subscription_id, district, min_severity, channel, target, language,
                          place, created_by, created_at"""


async def create_subscription(conn: AsyncConnection, **fields: Any) -> dict[str, Any]:
    """A new subscription; `fields` are its columns. The signing secret is returned with it, this once."""
    row = await _one(
        conn,
        f"""INSERT INTO subscriptions (subscription_id, district, min_severity, channel, target, language, place,
                                       signing_secret, created_by)
            VALUES (gen_random_uuid(), %(district)s, %(min_severity)s, %(channel)s, %(target)s, %(language)s,
                    %(place)s, %(signing_secret)s, %(created_by)s)
            RETURNING {SUBSCRIPTION_COLUMNS}, signing_secret""",
        fields,
    )
    created: dict[str, Any] = _present(row, "INSERT ... RETURNING of a subscription")
    return created


async def subscriptions(conn: AsyncConnection, *, districts: list[str] | None) -> list[dict[str, Any]]:
    return await _all(
        conn,
        f"""SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE deleted_at IS NULL AND {IN_DISTRICTS}
            ORDER BY district, created_at""",
        {"districts": districts},
    )


async def subscription(conn: AsyncConnection, *, subscription_id: UUID) -> dict[str, Any] | None:
    return await _one(
        conn,
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscription_id = %(id)s AND deleted_at IS NULL",
        {"id": subscription_id},
    )


async def delete_subscription(conn: AsyncConnection, *, subscription_id: UUID) -> None:
    """Kept with a deletion time, so its delivery log still makes sense; nothing more is sent."""
    await conn.execute(
        "UPDATE subscriptions SET deleted_at = now() WHERE subscription_id = %(id)s AND deleted_at IS NULL",
        {"id": subscription_id},
    )


async def deliveries(conn: AsyncConnection, *, subscription_id: UUID, limit: int) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT delivery_id, alert_id::text AS alert_id, change, event_time, message, status, attempts,
                  next_attempt_at, last_status, last_error, created_at, delivered_at
           FROM deliveries WHERE subscription_id = %(id)s ORDER BY created_at DESC, delivery_id DESC
           LIMIT %(limit)s""",
        {"id": subscription_id, "limit": limit},
    )


async def report_inputs(
    conn: AsyncConnection, *, district: str, start: datetime, end: datetime, zoom: int
) -> dict[str, list[dict[str, Any]]]:
    """What a district report plots: alerts per day and severity, each sensor's uptime, tile housing scores."""
    params = {"district": district, "start": start, "end": end, "zoom": zoom}
    alerts_per_day = await _all(
        conn,
        """SELECT time_bucket('1 day', opened_at) AS day, severity, count(*)::int AS alerts FROM alerts
           WHERE district = %(district)s AND opened_at >= %(start)s AND opened_at < %(end)s
           GROUP BY day, severity ORDER BY day""",
        params,
    )
    uptime = await _all(
        conn,
        """SELECT s.sensor_id, s.sensor_type, coalesce(u.minutes, 0)::int AS minutes FROM sensors s
           LEFT JOIN (SELECT sensor_id, count(DISTINCT bucket) AS minutes FROM readings_1m
                      WHERE district = %(district)s AND bucket >= %(start)s AND bucket < %(end)s
                      GROUP BY sensor_id) u USING (sensor_id)
           WHERE s.district = %(district)s AND s.revoked_at IS NULL ORDER BY s.sensor_id""",
        params,
    )
    housing = await _all(
        conn,
        """SELECT DISTINCT ON (tile_id) tile_id, housing_score, land_use_class FROM tile_assessments
           WHERE district = %(district)s AND zoom = %(zoom)s ORDER BY tile_id, time DESC""",
        params,
    )
    return {"alerts_per_day": alerts_per_day, "uptime": uptime, "housing": housing}
