"""SQL of the imagery archive's index: the newest image of each tile inside a map tile."""

from __future__ import annotations

from psycopg import AsyncConnection


async def newest_inside(
    conn: AsyncConnection, *, zoom: int, x0: int, x1: int, y0: int, y1: int, districts: list[str] | None
) -> list[tuple[int, int, str]]:
    """(x, y, digest) of the newest acquisition of every tile at `zoom` in the block, in the visible districts."""
    cur = await conn.execute(
        """SELECT DISTINCT ON (x, y) x, y, digest FROM imagery
           WHERE zoom = %(zoom)s AND x BETWEEN %(x0)s AND %(x1)s AND y BETWEEN %(y0)s AND %(y1)s
             AND (%(districts)s::text[] IS NULL OR district = ANY(%(districts)s::text[]))
           ORDER BY x, y, captured_at DESC, archived_at DESC""",
        {"zoom": zoom, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "districts": districts},
    )
    return [(int(x), int(y), str(digest)) for x, y, digest in await cur.fetchall()]
