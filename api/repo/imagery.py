"""SQL of the imagery archive's index: the newest image of each tile inside a map tile, as of a date, and the
acquisitions a map tile has."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from api.repo.rows import all_rows


async def newest_inside(
    conn: AsyncConnection,
    *,
    zoom: int,
    x0: int,
    x1: int,
    y0: int,
    y1: int,
    districts: list[str] | None,
    at: datetime | None = None,
) -> list[tuple[int, int, str]]:
    """(x, y, digest) of the newest acquisition of every tile at `zoom` in the block, in the visible districts;
    with `at`, the newest captured by then, so two dates of a place can be set side by side."""
    cur = await conn.execute(
        """SELECT DISTINCT ON (x, y) x, y, digest FROM imagery
           WHERE zoom = %(zoom)s AND x BETWEEN %(x0)s AND %(x1)s AND y BETWEEN %(y0)s AND %(y1)s
             AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s::text[]))
             AND (%(at)s::timestamptz IS NULL OR captured_at <= %(at)s::timestamptz)
           ORDER BY x, y, captured_at DESC, archived_at DESC""",
        {"zoom": zoom, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "districts": districts, "at": at},
    )  # fmt: skip
    return [(int(x), int(y), str(digest)) for x, y, digest in await cur.fetchall()]


async def acquisitions_inside(
    conn: AsyncConnection, *, zoom: int, x0: int, x1: int, y0: int, y1: int, districts: list[str] | None
) -> list[dict[str, Any]]:
    """Each acquisition with imagery inside the block, oldest first: when, from which source, how many tiles."""
    return await all_rows(
        conn,
        """SELECT captured_at, coalesce(source, '') AS source, count(*)::int AS tiles FROM imagery
           WHERE zoom = %(zoom)s AND x BETWEEN %(x0)s AND %(x1)s AND y BETWEEN %(y0)s AND %(y1)s
             AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s::text[]))
           GROUP BY captured_at, coalesce(source, '') ORDER BY captured_at""",
        {"zoom": zoom, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "districts": districts},
    )


async def changes(conn: AsyncConnection, *, tile_ids: list[str], districts: list[str] | None) -> list[dict[str, Any]]:
    """Every comparison of these tiles' acquisitions with the ones before them, newest first."""
    return await all_rows(
        conn,
        """SELECT tile_id, before_at, after_at, model_version, distance, housing_delta, built_up_delta,
                  vegetation_delta, class_before, class_after, kind, significant, alert_id::text AS alert_id
           FROM tile_changes
           WHERE tile_id = ANY(%(tiles)s) AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s::text[]))
           ORDER BY after_at DESC, tile_id, computed_at DESC""",
        {"tiles": tile_ids, "districts": districts},
    )
