"""SQL of what planners read: the priority index's inputs, service continuity, the district report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from api.repo.rows import IN_DISTRICTS, all_rows, one_row, present


async def priority_inputs(
    conn: AsyncConnection, *, districts: list[str] | None, start: datetime, end: datetime, zoom: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tiles with their newest assessment, alert spans clipped to the period) for the ranking."""
    tiles = await all_rows(
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
    spans = await all_rows(
        conn,
        f"""SELECT tile_id, rule, title_es, title_en, severity, state IN ('open', 'acknowledged') AS open,
                   extract(epoch FROM least(coalesce(resolved_at, %(end)s), %(end)s) - greatest(opened_at, %(start)s))
                       / 3600.0 AS hours
            FROM alerts
            WHERE {IN_DISTRICTS} AND state <> 'withdrawn' AND opened_at < %(end)s
                  AND coalesce(resolved_at, %(end)s) > %(start)s""",
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


async def report_inputs(
    conn: AsyncConnection, *, district: str, start: datetime, end: datetime, zoom: int
) -> dict[str, list[dict[str, Any]]]:
    """What a district report plots: alerts per day and severity, each sensor's uptime, tile housing scores."""
    params = {"district": district, "start": start, "end": end, "zoom": zoom}
    alerts_per_day = await all_rows(
        conn,
        """SELECT time_bucket('1 day', opened_at) AS day, severity, count(*)::int AS alerts FROM alerts
           WHERE district = %(district)s AND state <> 'withdrawn' AND opened_at >= %(start)s AND opened_at < %(end)s
           GROUP BY day, severity ORDER BY day""",
        params,
    )
    uptime = await all_rows(
        conn,
        """SELECT s.sensor_id, s.sensor_type, coalesce(u.minutes, 0)::int AS minutes FROM sensors s
           LEFT JOIN (SELECT sensor_id, count(DISTINCT bucket) AS minutes FROM readings_1m
                      WHERE district = %(district)s AND bucket >= %(start)s AND bucket < %(end)s
                      GROUP BY sensor_id) u USING (sensor_id)
           WHERE s.district = %(district)s AND s.revoked_at IS NULL ORDER BY s.sensor_id""",
        params,
    )
    housing = await all_rows(
        conn,
        """SELECT DISTINCT ON (tile_id) tile_id, housing_score, land_use_class FROM tile_assessments
           WHERE district = %(district)s AND zoom = %(zoom)s ORDER BY tile_id, time DESC""",
        params,
    )
    return {"alerts_per_day": alerts_per_day, "uptime": uptime, "housing": housing}


async def announced_cuts(
    conn: AsyncConnection, *, district: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The programmed cuts recorded for a district that overlap the period."""
    return await all_rows(
        conn,
        """SELECT id, service, starts_at, ends_at, announced_at, note, recorded_by FROM announced_cuts
           WHERE district = %(district)s AND starts_at < %(end)s AND ends_at > %(start)s ORDER BY starts_at""",
        {"district": district, "start": start, "end": end},
    )


async def record_cut(conn: AsyncConnection, *, district: str, cut: dict[str, Any], by: str) -> dict[str, Any]:
    row = await one_row(
        conn,
        """INSERT INTO announced_cuts (district, service, starts_at, ends_at, announced_at, note, recorded_by)
           VALUES (%(district)s, %(service)s, %(starts_at)s, %(ends_at)s, %(announced_at)s, %(note)s, %(by)s)
           RETURNING id, service, starts_at, ends_at, announced_at, note, recorded_by""",
        {"district": district, "by": by, **cut},
    )
    recorded: dict[str, Any] = present(row, "INSERT INTO announced_cuts")
    return recorded


async def tolerances(conn: AsyncConnection, *, district: str) -> dict[str, dict[str, Any]]:
    """The continuity tolerances an operator set for a district, by service."""
    rows = await all_rows(
        conn,
        """SELECT service, interruptions, hours, set_by, set_at FROM continuity_tolerances
           WHERE district = %(district)s""",
        {"district": district},
    )
    return {row.pop("service"): row for row in rows}


async def set_tolerance(
    conn: AsyncConnection, *, district: str, service: str, interruptions: int, hours: float, by: str
) -> dict[str, Any]:
    row = await one_row(
        conn,
        """INSERT INTO continuity_tolerances (district, service, interruptions, hours, set_by)
           VALUES (%(district)s, %(service)s, %(interruptions)s, %(hours)s, %(by)s)
           ON CONFLICT (district, service) DO UPDATE
           SET interruptions = excluded.interruptions, hours = excluded.hours, set_by = excluded.set_by,
               set_at = now()
           RETURNING interruptions, hours, set_by, set_at""",
        {"district": district, "service": service, "interruptions": interruptions, "hours": hours, "by": by},
    )
    saved: dict[str, Any] = present(row, "INSERT INTO continuity_tolerances")
    return saved


async def coverage_inputs(
    conn: AsyncConnection, *, district: str, zoom: int
) -> tuple[list[dict[str, Any]], list[tuple[float, float]]]:
    """(the newest assessment of each imagery tile of the district, every active sensor's longitude and latitude)."""
    assessed = await all_rows(
        conn,
        """SELECT DISTINCT ON (tile_id) tile_id, housing_score, land_use_class,
                  (features->>'built_up_fraction')::float AS built_up_fraction
           FROM tile_assessments WHERE district = %(district)s AND zoom = %(zoom)s
           ORDER BY tile_id, time DESC, computed_at DESC""",
        {"district": district, "zoom": zoom},
    )
    cur = await conn.execute(
        "SELECT longitude, latitude FROM sensors WHERE district = %(district)s AND revoked_at IS NULL",
        {"district": district},
    )
    return assessed, [(float(lon), float(lat)) for lon, lat in await cur.fetchall()]


async def plausibility_inputs(
    conn: AsyncConnection, *, district: str, since: datetime
) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """(the district's active sensors with their positions, each flood sensor's highest level since `since`)."""
    sensors = await all_rows(
        conn,
        """SELECT sensor_id, sensor_type, latitude, longitude FROM sensors
           WHERE district = %(district)s AND revoked_at IS NULL ORDER BY sensor_id""",
        {"district": district},
    )
    cur = await conn.execute(
        """SELECT sensor_id, max(max) FROM readings_1m
           WHERE district = %(district)s AND metric = 'flood_level' AND bucket >= %(since)s GROUP BY sensor_id""",
        {"district": district, "since": since},
    )
    return sensors, {str(sensor): float(level) for sensor, level in await cur.fetchall()}


async def plausibility_decisions(conn: AsyncConnection, *, sensor_ids: list[str]) -> dict[tuple[str, str], Any]:
    rows = await all_rows(
        conn,
        """SELECT sensor_id, rule, decision, note, decided_by, decided_at FROM plausibility_decisions
           WHERE sensor_id = ANY(%(sensors)s)""",
        {"sensors": sensor_ids},
    )
    return {(r["sensor_id"], r["rule"]): r for r in rows}


async def decide_plausibility(
    conn: AsyncConnection, *, sensor_id: str, rule: str, decision: str, note: str, by: str
) -> dict[str, Any]:
    row = await one_row(
        conn,
        """INSERT INTO plausibility_decisions (sensor_id, rule, decision, note, decided_by)
           VALUES (%(sensor)s, %(rule)s, %(decision)s, %(note)s, %(by)s)
           ON CONFLICT (sensor_id, rule) DO UPDATE SET decision = EXCLUDED.decision, note = EXCLUDED.note,
               decided_by = EXCLUDED.decided_by, decided_at = now()
           RETURNING sensor_id, rule, decision, note, decided_by, decided_at""",
        {"sensor": sensor_id, "rule": rule, "decision": decision, "note": note, "by": by},
    )
    decided: dict[str, Any] = present(row, "INSERT INTO plausibility_decisions")
    return decided
