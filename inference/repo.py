"""SQL for tile assessments, the imagery archive's index and the changes between acquisitions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from inference.change import Change, Kind
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


def previous_seen(
    conn: psycopg.Connection, *, tile_id: str, model_version: str, before: datetime
) -> tuple[datetime, str, float, list[float], dict[str, float]] | None:
    """The tile's acquisition just before `before`, as the same model assessed it, if any."""
    row = conn.execute(
        """SELECT time, land_use_class, housing_score, embedding, coalesce(features, '{}'::jsonb)
           FROM tile_assessments WHERE tile_id = %s AND model_version = %s AND time < %s
           ORDER BY time DESC LIMIT 1""",
        (tile_id, model_version, before),
    ).fetchone()
    return None if row is None else (row[0], row[1], float(row[2]), list(row[3]), dict(row[4]))


def is_newest(conn: psycopg.Connection, *, tile_id: str, captured_at: datetime) -> bool:
    """Whether no later acquisition of the tile was archived: only news about the present is alerted."""
    row = conn.execute("SELECT 1 FROM imagery WHERE tile_id = %s AND captured_at > %s LIMIT 1", (tile_id, captured_at))
    return row.fetchone() is None


@dataclass(frozen=True)
class ChangeRow:
    tile_id: str
    before_at: datetime
    after_at: datetime
    model_version: str
    district: str | None
    change: Change
    block_id: str  # the sensor tile holding the imagery tile: where the alert is raised


def record_change(conn: psycopg.Connection, row: ChangeRow) -> bool:
    """Store the comparison; True when this pair of acquisitions was compared for the first time by any model."""
    seen = conn.execute(
        "SELECT 1 FROM tile_changes WHERE tile_id = %s AND before_at = %s AND after_at = %s LIMIT 1",
        (row.tile_id, row.before_at, row.after_at),
    ).fetchone()
    c = row.change
    conn.execute(
        """INSERT INTO tile_changes (tile_id, before_at, after_at, model_version, district, distance, housing_delta,
                                     built_up_delta, vegetation_delta, class_before, class_after, kind, significant)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
           ON CONFLICT (tile_id, before_at, after_at, model_version) DO NOTHING""",
        (row.tile_id, row.before_at, row.after_at, row.model_version, row.district, c.distance, c.housing_delta,
         c.built_up_delta, c.vegetation_delta, c.class_before, c.class_after, c.kind.value, c.significant),
    )  # fmt: skip
    return seen is None


def open_change_alert(conn: psycopg.Connection, row: ChangeRow, *, title: tuple[str, str], detail: str) -> str | None:
    """An alert of rule `imagery-change` on the tile, written with its event for the alerts topic's outbox;
    None when one is already open on the tile (a person has not yet looked at the last change)."""
    alert_id = str(uuid.uuid4())
    c = row.change
    severity = "warning" if c.kind in (Kind.CONSTRUCTION, Kind.LOSS) else "info"
    inserted = conn.execute(
        """INSERT INTO alerts (alert_id, rule, sensor_id, metric, district, tile_id, severity, state, opened_at,
                               updated_at, value, detail, title_es, title_en, model_version, land_use_class,
                               window_start, window_end)
           VALUES (%s, 'imagery-change', 'imagery', NULL, %s, %s, %s, 'open', %s, now(), %s, %s, %s, %s, %s, %s,
                   %s, %s)
           ON CONFLICT DO NOTHING RETURNING alert_id""",
        (alert_id, row.district or "", row.block_id, severity, row.after_at, c.distance, detail, title[0], title[1],
         row.model_version, c.class_after, row.before_at, row.after_at),
    ).fetchone()  # fmt: skip
    if inserted is None:
        return None
    conn.execute(
        """INSERT INTO alert_events (time, alert_id, change, severity, state, value, detail)
           SELECT %s, alert_id, 'opened', severity, state, value, detail FROM alerts WHERE alert_id = %s""",
        (row.after_at, alert_id),
    )
    conn.execute("UPDATE tile_changes SET alert_id = %s WHERE tile_id = %s AND before_at = %s AND after_at = %s",
                 (alert_id, row.tile_id, row.before_at, row.after_at))  # fmt: skip
    return alert_id


def field_labels(conn: psycopg.Connection, *, district: str | None) -> list[tuple[str, str, str]]:
    """(tile, class, digest of its newest archived image) for the newest label of every labelled tile."""
    rows = conn.execute(
        """SELECT l.tile_id, l.land_use_class, i.digest FROM (
               SELECT DISTINCT ON (tile_id) tile_id, land_use_class FROM field_labels
               WHERE %(d)s::text IS NULL OR district = %(d)s ORDER BY tile_id, labelled_at DESC
           ) l
           JOIN LATERAL (SELECT digest FROM imagery WHERE tile_id = l.tile_id ORDER BY captured_at DESC LIMIT 1) i
             ON true
           ORDER BY l.tile_id""",
        {"d": district},
    ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]
