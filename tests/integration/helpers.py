"""Helpers the integration tests share: publishing, polling, reading topics and tables."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition

from inference import embeddings
from simulate.simulator import Publisher
from vigia import registry, topics
from vigia.contracts import DeadLetter, TileEmbedding
from vigia.settings import Settings
from vigia.tiles import tile_id_for

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], *, timeout: float = 60, every: float = 0.5, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def query(settings: Settings, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.db_conninfo) as conn:
        return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


def register(
    settings: Settings,
    sensor_id: str,
    lat: float,
    lon: float,
    sensor_type: str,
    metrics: list[str],
    district: str = "integration",
) -> str:
    tile = tile_id_for(lat, lon, settings.tile_zoom)
    with psycopg.connect(settings.db_conninfo) as conn:
        registry.upsert_sensor(
            conn,
            sensor_id=sensor_id,
            sensor_type=sensor_type,
            district=district,
            latitude=lat,
            longitude=lon,
            tile_id=tile,
            metrics=metrics,
        )
    return tile


def publish(settings: Settings, sensor_id: str, body: dict[str, Any] | bytes, district: str = "integration") -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with Publisher(settings, client_id=f"it-{sensor_id}") as publisher:
        publisher.publish(f"vigia/{district}/{sensor_id}/telemetry", raw).wait_for_publish(10)


async def dead_letters_for(settings: Settings, raw: bytes, wait_seconds: float = 30) -> list[DeadLetter]:
    """Dead letters whose original bytes are `raw`, read from the start of the topic."""
    consumer = AIOKafkaConsumer(
        topics.READINGS_DEAD_LETTER,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[DeadLetter] = []
    try:
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline and not found:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    letter = DeadLetter.model_validate_json(record.value)  # type: ignore[arg-type]
                    if base64.b64decode(letter.payload_b64) == raw:
                        found.append(letter)
    finally:
        await consumer.stop()
    return found


def read_topic(settings: Settings, topic: str) -> list[Any]:
    """Every record of `topic` from the beginning up to its current end."""

    async def read() -> list[Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            partitions = None
            for _ in range(50):
                partitions = consumer.partitions_for_topic(topic)
                if partitions:
                    break
                await consumer._client.force_metadata_update()
                await asyncio.sleep(0.1)
            assigned = [TopicPartition(topic, p) for p in sorted(partitions or [])]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            ends = await consumer.end_offsets(assigned)
            records: list[Any] = []
            while True:
                positions = [await consumer.position(tp) for tp in assigned]
                if all(position >= ends[tp] for position, tp in zip(positions, assigned, strict=True)):
                    break
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    records.extend(batch)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(read())


def api_headers(settings: Settings, role: str = "operator", district: str | None = None) -> dict[str, str]:
    """A fresh API key of `role`, as request headers."""
    from api import keys
    from api.access import Role

    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        _, key = keys.add(conn, role=Role(role), district=district, name=f"test {role}")
    return {"Authorization": f"Bearer {key}"}


def assess_tile_as_precarious(
    settings: Settings, tile: str, probe: tuple[str, float, float], district: str = "integration"
) -> None:
    """Publish a precarious assessment of `tile`, and wait until the stream joins it to a probe sensor's window.

    `probe` is (sensor id, latitude, longitude) of a spare sensor inside the tile.
    """

    embedding = TileEmbedding(
        tile_id=tile, model_version="it-outage", computed_at=datetime(2026, 3, 1, tzinfo=UTC),
        land_use_class="mobilehomepark", housing_score=0.9, embedding=[0.5] * 8, precarious_share=0.8,
    )  # fmt: skip
    asyncio.run(embeddings.publish(settings, [embedding]))
    sensor_id, lat, lon = probe
    assert register(settings, sensor_id, lat, lon, "water", ["water_pressure"], district=district) == tile

    def joined() -> list[tuple[Any, ...]] | None:
        publish(settings, sensor_id, {"ts": datetime.now(UTC).isoformat(), "water_pressure": 1.3}, district)
        sql = "SELECT 1 FROM readings_1m WHERE sensor_id = %(s)s AND model_version = 'it-outage'"
        return query(settings, sql, {"s": sensor_id}) or None

    eventually(joined, timeout=60, every=1, what="the stream to know the tile's assessment")


def all_healthy(settings: Settings, names: list[str] | None = None) -> bool | None:
    """Every named component (all when None) answers its health probe; None otherwise, for `eventually`."""
    from ops import control

    rows = control.status(settings, names)
    return all(row.health is not None and row.health.healthy for row in rows) or None


class JsonPosts:
    """An HTTP server on loopback keeping each JSON body posted to it with its path: what Apprise's
    json:// sends, standing in for a provider outside any deployment."""

    def __init__(self, port: int = 0) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                posts.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def messages(self, path: str | None = None) -> list[str]:
        """The `message` of each post, oldest first; only those to `path` when given."""
        return [str(body["message"]) for where, body in self.posts if path is None or where == path]

    def close(self) -> None:
        self.server.shutdown()


def vigia(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops", *args],
        capture_output=True,
        text=True,
        env=env or os.environ.copy(),
        timeout=600,
        check=False,
    )


def served_by(stack: Settings, port: int, version: str) -> None:
    """Wait until the worker on `port` answers with `version` (it looks at the registry every second)."""
    image = (stack.imagery_dir / "ucmerced" / "forest" / "forest02.jpg").read_bytes()

    def answers() -> bool | None:
        try:
            reply = httpx.post(f"http://127.0.0.1:{port}/assess", content=image, timeout=10)
        except httpx.HTTPError:
            return None
        return True if reply.status_code == 200 and reply.json()["model_version"] == version else None

    eventually(answers, timeout=60, what=f"the worker on {port} serving {version}")
