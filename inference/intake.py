"""Queueing tiles for the inference worker, and waiting for their assessments."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

import cv2
import psycopg
from tqdm import tqdm

from inference import repo
from inference.tiling import ImageTile
from vigia import kafka, topics
from vigia.contracts import TileJob
from vigia.settings import Settings


def encode_png(tile: ImageTile) -> bytes:
    if tile.data is not None:
        return tile.data
    if tile.rgb is None:
        raise ValueError(f"tile {tile.tile_id} has neither pixels nor bytes")
    ok, buffer = cv2.imencode(".png", cv2.cvtColor(tile.rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"tile {tile.tile_id} could not be encoded")
    return bytes(buffer.tobytes())


async def queue_tiles(
    settings: Settings, tiles: Iterable[ImageTile], *, district: str | None, show_progress: bool = False
) -> list[tuple[str, datetime]]:
    """Send one job per tile, keyed by tile id; returns (tile id, image time) of each job sent."""
    producer = kafka.producer(settings, max_request_size=kafka.IMAGE_RECORD_BYTES, linger_ms=20)
    await producer.start()
    queued = []
    try:
        for tile in tqdm(tiles, desc="queueing tiles", unit="tile", disable=not show_progress):
            job = TileJob(
                tile_id=tile.tile_id,
                district=district,
                source=tile.source,
                captured_at=tile.captured_at,
                image=encode_png(tile),
            )
            await producer.send(topics.TILE_JOBS, value=job.to_json(), key=tile.tile_id.encode())
            queued.append((tile.tile_id, job.captured_at))
        await producer.flush()
    finally:
        await producer.stop()
    return queued


def wait_for_assessments(
    conn: psycopg.Connection,
    queued: list[tuple[str, datetime]],
    *,
    timeout: float,
    show_progress: bool = False,
    model_version: str | None = None,
) -> int:
    """Poll until every queued tile has a stored assessment (by `model_version`, if named) or `timeout`
    passes; returns how many have."""
    deadline = time.monotonic() + timeout
    wanted = len(set(queued))
    with tqdm(total=wanted, desc="assessing", unit="tile", disable=not show_progress) as bar:
        while True:
            done = repo.stored_assessments(conn, queued=queued, model_version=model_version)
            bar.update(done - bar.n)
            if done >= wanted or time.monotonic() > deadline:
                return done
            time.sleep(0.5)
