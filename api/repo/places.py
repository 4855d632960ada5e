"""SQL of tiles and districts: assessments, the sensors on a tile, a district's tiles and status."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

from api.repo.rows import IN_DISTRICTS, all_rows, one_row

ASSESSMENT_COLUMNS = """tile_id, district, time AS assessed_at, model_version, land_use_class, class_probability,
                        housing_score, precarious_share, sub_tiles, features, source"""


async def tile_assessment(conn: AsyncConnection, *, tile_id: str) -> dict[str, Any] | None:
    """The newest assessment of a tile, by any model."""
    return await one_row(
        conn,
        f"""SELECT {ASSESSMENT_COLUMNS} FROM tile_assessments WHERE tile_id = %(tile)s
            ORDER BY time DESC, computed_at DESC LIMIT 1""",
        {"tile": tile_id},
    )


async def tile_sensors(conn: AsyncConnection, *, tile_id: str) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        """SELECT sensor_id, sensor_type, district, latitude, longitude, metrics FROM sensors
           WHERE tile_id = %(tile)s AND revoked_at IS NULL ORDER BY sensor_id""",
        {"tile": tile_id},
    )


async def district_tiles(conn: AsyncConnection, *, district: str, zoom: int) -> list[dict[str, Any]]:
    """Each tile of the district at the sensor zoom: newest assessment, sensors and open alerts.

    The district's sensors are read once, for both the tiles and their counts: at 100,000
    sensors each scan cost about 30 ms.
    """
    return await all_rows(
        conn,
        """WITH watched AS (
               SELECT tile_id, count(*)::int AS sensors FROM sensors
               WHERE district = %(district)s AND revoked_at IS NULL GROUP BY tile_id
           ), tiles AS (
               SELECT tile_id FROM watched
               UNION
               SELECT tile_id FROM tile_assessments WHERE district = %(district)s AND zoom = %(zoom)s
           )
           SELECT t.tile_id, coalesce(n.place, '') AS place, a.land_use_class, a.housing_score, a.model_version,
                  a.assessed_at,
                  coalesce(w.sensors, 0) AS sensors, coalesce(o.open_alerts, 0) AS open_alerts,
                  coalesce(o.critical, 0) AS critical_alerts
           FROM tiles t
           LEFT JOIN LATERAL (
               SELECT land_use_class, housing_score, model_version, time AS assessed_at FROM tile_assessments
               WHERE tile_id = t.tile_id ORDER BY time DESC, computed_at DESC LIMIT 1
           ) a ON true
           LEFT JOIN watched w USING (tile_id)
           LEFT JOIN (
               SELECT tile_id, count(*)::int AS open_alerts,
                      (count(*) FILTER (WHERE severity = 'critical'))::int AS critical
               FROM alerts WHERE district = %(district)s AND state IN ('open', 'acknowledged') GROUP BY tile_id
           ) o USING (tile_id)
           LEFT JOIN tile_place_names n USING (tile_id)
           ORDER BY t.tile_id""",
        {"district": district, "zoom": zoom},
    )


# A district's counts and housing; `d.district` is the district.
_STATUS = """(SELECT count(*) FROM sensors s WHERE s.district = d.district AND s.revoked_at IS NULL)::int
                      AS sensors,
                  (SELECT count(*) FROM alerts a
                    WHERE a.district = d.district AND a.state IN ('open', 'acknowledged'))::int
                      AS open_alerts,
                  (SELECT count(*) FROM alerts a WHERE a.district = d.district AND a.state IN ('open', 'acknowledged')
                     AND a.severity = 'critical')::int AS critical_alerts,
                  (SELECT avg(housing_score) FROM (
                       SELECT DISTINCT ON (tile_id) housing_score FROM tile_assessments t
                       WHERE t.district = d.district AND t.zoom = %(zoom)s ORDER BY tile_id, time DESC) h)
                      AS mean_housing_score"""


async def districts(conn: AsyncConnection, *, districts: list[str] | None, zoom: int) -> list[dict[str, Any]]:
    """Each district's registered sensors, open alerts and housing (those heard from: `sensors_reporting`)."""
    return await all_rows(
        conn,
        f"""WITH d AS (SELECT DISTINCT district FROM sensors WHERE {IN_DISTRICTS})
           SELECT d.district, {_STATUS} FROM d ORDER BY d.district""",
        {"districts": districts, "zoom": zoom},
    )


async def district_status(conn: AsyncConnection, *, district: str, zoom: int) -> dict[str, Any] | None:
    """One district's row as `districts` gives it, in one round trip; None if it has neither sensors nor imagery.

    A district whose imagery came before its first sensor has a status too: no sensors yet.
    """
    row = await one_row(
        conn,
        f"""SELECT d.district, {_STATUS},
                  EXISTS (SELECT 1 FROM sensors WHERE district = d.district)
                  OR EXISTS (SELECT 1 FROM imagery WHERE district = d.district) AS known
           FROM (SELECT %(district)s::text AS district) d""",
        {"district": district, "zoom": zoom},
    )
    if row is None or not row.pop("known"):
        return None
    return row


async def sensors_reporting(conn: AsyncConnection, *, districts: list[str]) -> dict[str, int]:
    """Sensors heard from in the last 15 minutes, by district (see `api/reporting.py` for why it is kept)."""
    rows = await all_rows(
        conn,
        """SELECT d AS district,
                  (SELECT count(DISTINCT sensor_id) FROM readings_1m r
                    WHERE r.district = d AND r.bucket > now() - interval '15 minutes')::int AS reporting
           FROM unnest(%(districts)s::text[]) AS d""",
        {"districts": districts},
    )
    return {r["district"]: r["reporting"] for r in rows}


async def district_exists(conn: AsyncConnection, *, district: str) -> bool:
    """A district is known by its sensors, or by imagery ingested for it before any sensor was installed."""
    cur = await conn.execute(
        """SELECT 1 FROM sensors WHERE district = %(d)s
           UNION ALL SELECT 1 FROM imagery WHERE district = %(d)s LIMIT 1""",
        {"d": district},
    )
    return await cur.fetchone() is not None


async def tile_places(conn: AsyncConnection, *, tile_ids: list[str]) -> dict[str, str]:
    """How people name each of these tiles, where a name is known."""
    rows = await all_rows(
        conn, "SELECT tile_id, place FROM tile_place_names WHERE tile_id = ANY(%(tiles)s)", {"tiles": tile_ids}
    )
    return {r["tile_id"]: r["place"] for r in rows}


async def name_tile(conn: AsyncConnection, *, tile_id: str, place: str) -> None:
    await conn.execute(
        """INSERT INTO tile_places (tile_id, place) VALUES (%(tile)s, %(place)s)
           ON CONFLICT (tile_id) DO UPDATE SET place = EXCLUDED.place, updated_at = now()""",
        {"tile": tile_id, "place": place},
    )
