"""SQL for the model registry and tile assessments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from inference.housing import SubTile
from inference.modelfile import ARCHITECTURE, ModelInfo


class RegistryError(ValueError):
    """A registry change that cannot be made, with why."""


def register_model(conn: psycopg.Connection, *, info: ModelInfo, path: Path) -> None:
    conn.execute(
        """INSERT INTO models (version, architecture, path, classes, input_size, metrics, trained_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path, metrics = EXCLUDED.metrics""",
        (
            info.version,
            ARCHITECTURE,
            str(path),
            list(info.classes),
            info.input_size,
            Jsonb(dict(info.metrics)),
            info.trained_at,
        ),
    )


def list_models(conn: psycopg.Connection) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            """SELECT version, path, metrics, trained_at, registered_at, active, activated_at
               FROM models ORDER BY registered_at DESC, version"""
        ).fetchall()


def active_model(conn: psycopg.Connection) -> tuple[str, Path] | None:
    row = conn.execute("SELECT version, path FROM models WHERE active").fetchone()
    return (row[0], Path(row[1])) if row else None


def promote(conn: psycopg.Connection, *, version: str) -> None:
    with conn.transaction():
        if conn.execute("SELECT 1 FROM models WHERE version = %s", (version,)).fetchone() is None:
            raise RegistryError(f"no model {version!r} in the registry (see `vigia model list`)")
        conn.execute("UPDATE models SET active = false WHERE active AND version <> %s", (version,))
        conn.execute("UPDATE models SET active = true, activated_at = now() WHERE version = %s", (version,))


def rollback(conn: psycopg.Connection) -> str:
    """Re-activate the model that was active before the current one; returns its version."""
    row = conn.execute(
        """SELECT version FROM models WHERE NOT active AND activated_at IS NOT NULL
           ORDER BY activated_at DESC LIMIT 1"""
    ).fetchone()
    if row is None:
        raise RegistryError("no earlier active model to roll back to")
    promote(conn, version=row[0])
    return str(row[0])


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


def stored_assessments(conn: psycopg.Connection, *, queued: list[tuple[str, datetime]]) -> int:
    """How many of the queued (tile, image time) pairs have an assessment stored."""
    row = conn.execute(
        """SELECT count(DISTINCT (a.tile_id, a.time)) FROM tile_assessments a
           JOIN unnest(%s::text[], %s::timestamptz[]) AS q(tile_id, time) USING (tile_id, time)""",
        ([t for t, _ in queued], [c for _, c in queued]),
    ).fetchone()
    return int(row[0]) if row else 0
