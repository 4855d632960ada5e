"""What the stream benchmarks share: backlogs of readings on Kafka, worker processes that drain
them, and the clock on their rows in TimescaleDB."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from vigia import kafka, topics
from vigia.contracts import Metric, Reading
from vigia.reading_records import encode
from vigia.settings import Settings

STREAM_GROUP = "vigia-stream"  # the Faust app's id, its consumer group


async def produce(settings: Settings, prefix: str, sensors: int, per_sensor: int, pack: int = 1) -> int:
    """Each sensor's readings 10 s apart, `pack` to a record, as a bridge batch holding that many
    of a sensor's messages (or one SenML pack) writes them; returns the records sent."""
    start = (datetime.now(UTC) - timedelta(days=3)).replace(second=0, microsecond=0)
    producer = kafka.producer(settings, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    records = 0
    try:
        for first in range(0, per_sensor, pack):
            for s in range(sensors):
                readings = [
                    Reading(
                        sensor_id=f"{prefix}-{s:04d}", district="bench", tile_id="17/1/1", metric=Metric.TILT,
                        value=1.0 + (i % 7) / 100, unit="deg", event_time=start + timedelta(seconds=10 * i),
                        received_at=start + timedelta(seconds=10 * i),
                    )
                    for i in range(first, min(first + pack, per_sensor))
                ]  # fmt: skip
                await producer.send(topics.READINGS, encode(readings), key=readings[0].sensor_id.encode())
                records += 1
        await producer.flush()
    finally:
        await producer.stop()
    return records


def stored(settings: Settings, prefix: str) -> int:
    with psycopg.connect(settings.db_conninfo) as conn:
        row = conn.execute("SELECT count(*) FROM readings WHERE sensor_id LIKE %s", (f"{prefix}-%",)).fetchone()
    return int(row[0]) if row else 0


def time_rows(
    settings: Settings, prefix: str, expected: int, processes: list[subprocess.Popen[bytes]], timeout: float = 600
) -> float:
    """Readings/s from the first stored row of `prefix` to the last."""
    first_at, first_n = None, 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise RuntimeError("a stream worker exited during the benchmark")
        n = stored(settings, prefix)
        now = time.perf_counter()
        if first_at is None and n > 0:
            first_at, first_n = now, n
        if n >= expected and first_at is not None:
            return (n - first_n) / (now - first_at)
        time.sleep(0.1)
    raise TimeoutError(f"{prefix}: stored {stored(settings, prefix)} of {expected}")


def worker_env(settings: Settings, rules: Path) -> dict[str, str]:
    return {**os.environ, "VIGIA_STATE_DIR": str(settings.state_dir), "VIGIA_RULES_PATH": str(rules)}


@contextmanager
def stream_workers(settings: Settings, rules: Path, count: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` worker processes (`vigia stream run`) in the one consumer group; stopped after."""
    command = [sys.executable, "-m", "ops", "stream", "run"]
    env = worker_env(settings, rules)
    started = [
        subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)
    ]
    try:
        yield started
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(60)


def bench_faust(settings: Settings, prefix: str, expected: int, rules: Path, workers: int = 1) -> float:
    """`workers` worker processes in the one consumer group, splitting the topic's partitions."""
    with stream_workers(settings, rules, workers) as started:
        return time_rows(settings, prefix, expected, started)
