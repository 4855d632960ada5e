"""The inference worker killed mid-batch: every queued tile assessed once, no roll-up left half-written."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.inference_worker import block_tiles
from drills import faults
from inference.intake import queue_tiles
from inference.repo import stored_assessments
from vigia.settings import Settings


def images(settings: Settings, count: int) -> list[bytes]:
    folder = settings.imagery_dir / "ucmerced"
    files = sorted(p for kind in ("denseresidential", "mobilehomepark", "forest") for p in (folder / kind).glob("*"))
    return [Path(files[i % len(files)]).read_bytes() for i in range(count)]


@dataclass(frozen=True)
class Tiles:
    """What TimescaleDB holds of the queued tiles after the kill and the restart."""

    sent: int
    stored: int
    duplicated: int  # assessment rows beyond one a tile
    half_written: int  # sensor tiles whose newest roll-up misses a sub-tile assessed under it
    at_kill: int
    recovery: float  # seconds from the restart until every tile was stored

    @property
    def lost(self) -> int:
        return self.sent - self.stored


def run(settings: Settings, *, tiles: int, kill_at: float) -> Tiles:
    """Queue `tiles` images, SIGKILL the worker once `kill_at` of them are stored, restart it, count."""
    captured = datetime.now(UTC).replace(microsecond=0)
    pictures = images(settings, tiles)
    queued = asyncio.run(queue_tiles(settings, block_tiles(pictures, "drill", captured), district="drill"))
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        while stored_assessments(conn, queued=queued) < kill_at * tiles:
            time.sleep(0.05)
        at_kill = stored_assessments(conn, queued=queued)
        asked: list[float] = []
        faults.kill_and_hold(settings, "inference", 5, ended=lambda: asked.append(time.monotonic()))
        [restarted], last, quiet = asked, -1, time.monotonic()
        while time.monotonic() - quiet < 60:
            done = stored_assessments(conn, queued=queued)
            if done >= tiles:
                break
            if done != last:
                last, quiet = done, time.monotonic()
            time.sleep(0.5)
        recovery = time.monotonic() - restarted
        stored = stored_assessments(conn, queued=queued)
        rows = conn.execute(
            "SELECT count(*) FROM tile_assessments WHERE source = 'drill' AND time = %s", (captured,)
        ).fetchone()
        # Each sensor tile's newest roll-up must count every sub-tile assessed under it.
        half_written = conn.execute(
            """SELECT count(*) FROM (
                   SELECT DISTINCT ON (r.tile_id) r.tile_id, r.sub_tiles,
                          (SELECT count(*) FROM tile_assessments c
                            WHERE c.parent_tile_id = r.tile_id AND c.model_version = r.model_version) AS children
                   FROM tile_assessments r
                   WHERE r.tile_id IN (SELECT DISTINCT parent_tile_id FROM tile_assessments
                                       WHERE source = 'drill' AND time = %s)
                   ORDER BY r.tile_id, r.time DESC, r.computed_at DESC) latest
               WHERE sub_tiles IS DISTINCT FROM children""",
            (captured,),
        ).fetchone()
    return Tiles(
        sent=tiles, stored=stored, duplicated=(int(rows[0]) if rows else 0) - stored,
        half_written=int(half_written[0]) if half_written else 0, at_kill=at_kill, recovery=recovery,
    )  # fmt: skip
