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


async def label_tile(
    conn: AsyncConnection, *, tile_id: str, district: str | None, land_use_class: str, note: str, by: str
) -> dict[str, Any]:
    cur = await conn.execute(
        """INSERT INTO field_labels (tile_id, district, land_use_class, note, labelled_by)
           VALUES (%(tile)s, %(district)s, %(cls)s, %(note)s, %(by)s)
           RETURNING tile_id, district, land_use_class, note, labelled_by, labelled_at""",
        {"tile": tile_id, "district": district, "cls": land_use_class, "note": note, "by": by},
    )
    row = await cur.fetchone()
    names = ("tile_id", "district", "land_use_class", "note", "labelled_by", "labelled_at")
    return dict(zip(names, row or (), strict=True))


async def tile_district(conn: AsyncConnection, *, tile_ids: list[str]) -> str | None:
    """The district the tiles' imagery or sensors belong to, if any does."""
    cur = await conn.execute(
        """SELECT district FROM imagery WHERE tile_id = ANY(%(t)s) AND district IS NOT NULL
           UNION ALL SELECT district FROM sensors WHERE tile_id = ANY(%(t)s) LIMIT 1""",
        {"t": tile_ids},
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


async def labels(conn: AsyncConnection, *, district: str) -> list[dict[str, Any]]:
    """The newest label of each labelled tile of the district."""
    return await all_rows(
        conn,
        """SELECT DISTINCT ON (tile_id) tile_id, district, land_use_class, note, labelled_by, labelled_at
           FROM field_labels WHERE district = %(d)s ORDER BY tile_id, labelled_at DESC""",
        {"d": district},
    )


async def least_sure(conn: AsyncConnection, *, district: str, zoom: int, limit: int) -> list[dict[str, Any]]:
    """Unlabelled imagery tiles of the district whose newest assessment the model was least sure of."""
    return await all_rows(
        conn,
        """SELECT * FROM (
               SELECT DISTINCT ON (a.tile_id) a.tile_id, a.land_use_class, a.class_probability, a.housing_score
               FROM tile_assessments a
               WHERE a.district = %(d)s AND a.zoom = %(z)s AND a.class_probability IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM field_labels l WHERE l.tile_id = a.tile_id)
               ORDER BY a.tile_id, a.time DESC, a.computed_at DESC
           ) newest ORDER BY class_probability, tile_id LIMIT %(n)s""",
        {"d": district, "z": zoom, "n": limit},
    )
