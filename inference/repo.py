"""SQL for tile assessments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from inference.housing import SubTile


@dataclass(frozen=True)
class AssessmentRow:
    time: datetime
    tile_id: str
    zoom: int
    parent_tile_id: str | None
    district: str | None
    model_version: str
    land_use_class: str
    class_probability: float | None
    housing_score: float
    precarious_share: float | None
    sub_tiles: int | None
    features: dict[str, float] | None
    embedding: Sequence[float]
    source: str | None


def upsert_assessments(conn: psycopg.Connection, rows: Sequence[AssessmentRow]) -> None:
    """Write rows; the same tile, model and image time rewrites its row (a replay adds nothing)."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO tile_assessments
                   (time, tile_id, zoom, parent_tile_id, district, model_version, land_use_class,
                    class_probability, housing_score, precarious_share, sub_tiles, features, embedding, source)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (tile_id, model_version, time) DO UPDATE SET
                   land_use_class = EXCLUDED.land_use_class, class_probability = EXCLUDED.class_probability,
                   housing_score = EXCLUDED.housing_score, precarious_share = EXCLUDED.precarious_share,
                   sub_tiles = EXCLUDED.sub_tiles, features = EXCLUDED.features, embedding = EXCLUDED.embedding,
                   district = COALESCE(EXCLUDED.district, tile_assessments.district),
                   source = EXCLUDED.source, computed_at = now()""",
            [
                (
                    r.time,
                    r.tile_id,
                    r.zoom,
                    r.parent_tile_id,
                    r.district,
                    r.model_version,
                    r.land_use_class,
                    r.class_probability,
                    r.housing_score,
                    r.precarious_share,
                    r.sub_tiles,
                    Jsonb(r.features) if r.features is not None else None,
                    list(r.embedding),
                    r.source,
                )
                for r in rows
            ],
        )


def latest_sub_tiles(
    conn: psycopg.Connection, *, parent_tile_id: str, model_version: str
) -> tuple[list[SubTile], datetime | None]:
    """The newest assessment of every imagery tile inside a sensor tile, and the newest image time."""
    rows = conn.execute(
        """SELECT DISTINCT ON (tile_id) tile_id, land_use_class, housing_score, embedding, time
           FROM tile_assessments
           WHERE parent_tile_id = %s AND model_version = %s
           ORDER BY tile_id, time DESC""",
        (parent_tile_id, model_version),
    ).fetchall()
    parts = [SubTile(tile_id=r[0], land_use_class=r[1], housing_score=float(r[2]), embedding=r[3]) for r in rows]
    return parts, max((r[4] for r in rows), default=None)


def stored_assessments(
    conn: psycopg.Connection, *, queued: list[tuple[str, datetime]], model_version: str | None = None
) -> int:
    """How many of the queued (tile, image time) pairs have an assessment stored (by that model, if named)."""
    row = conn.execute(
        """SELECT count(DISTINCT (a.tile_id, a.time)) FROM tile_assessments a
           JOIN unnest(%s::text[], %s::timestamptz[]) AS q(tile_id, time) USING (tile_id, time)
           WHERE %s::text IS NULL OR a.model_version = %s::text""",
        ([t for t, _ in queued], [c for _, c in queued], model_version, model_version),
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class ImageryRow:
    tile_id: str
    captured_at: datetime
    district: str | None
    source: str | None
    digest: str


def record_imagery(conn: psycopg.Connection, rows: Sequence[ImageryRow]) -> None:
    """Which archived image each tile had at its acquisition time; the same again changes nothing."""
    from vigia.tiles import parse_tile_id

    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO imagery (tile_id, zoom, x, y, captured_at, district, source, digest)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (tile_id, captured_at) DO UPDATE SET
                   digest = EXCLUDED.digest, source = EXCLUDED.source,
                   district = COALESCE(EXCLUDED.district, imagery.district),
                   archived_at = CASE WHEN imagery.digest = EXCLUDED.digest THEN imagery.archived_at ELSE now() END""",
            [
                (r.tile_id, t.z, t.x, t.y, r.captured_at, r.district, r.source, r.digest)
                for r in rows
                for t in [parse_tile_id(r.tile_id)]
            ],
        )


def archived(
    conn: psycopg.Connection, *, district: str | None
) -> list[tuple[str, datetime, str | None, str | None, str]]:
    """Every archived acquisition (tile, image time, district, source, digest), a district's or all."""
    return [
        (str(r[0]), r[1], r[2], r[3], str(r[4]))
        for r in conn.execute(
            """SELECT tile_id, captured_at, district, source, digest FROM imagery
               WHERE %(d)s::text IS NULL OR district = %(d)s ORDER BY district, tile_id, captured_at""",
            {"d": district},
        ).fetchall()
    ]
