"""Stream benchmark: readings/s from Kafka to rows in TimescaleDB, against the bare Faust floor
and a plain aiokafka consumer, and reading-to-alert latency at a steady rate. Not a test.

    python -m bench.stream [--readings 100000] [--sensors 500] [--pack 10] [--steady-seconds 30]

Twice, with one reading a record and with `--pack` readings a record (a bridge batch that
took that many of a sensor's messages, or one SenML pack):
(b) the bare Faust floor (`bench/faust_floor.py`) drains a backlog doing nothing;
(a) our Faust worker (`vigia stream run`, its own process) drains the same backlog;
(c) a plain aiokafka consumer runs the same decode, windows, rules and sink on a second
backlog of as many readings; `ratio_plain` is (a) over (c). Then readings arrive at a steady 2,000/s with a three-second
flood rule firing and clearing on every sensor, and the latency from the Kafka timestamp
of the reading that began each alert's condition to its alert row is measured. Last, one
worker and then two worker processes in one consumer group (splitting the partitions) drain
packed backlogs, in turn for `--scale-rounds` rounds. Each backlog is produced once the
workers have joined the group and run: produced before, it was taken whole by the first to
join and a rebalance stopped both a few seconds in, and one such pair of runs gave anything
from 0.6 to 1.5. `two_workers_ratio` is the median of the rounds' ratios.

    [--scale-rounds 3] [--scale-only] [--latency-only]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from bench.common import bench_stack
from bench.stream_backlog import STREAM_GROUP, bench_faust, produce, stream_workers, worker_env
from bench.stream_scaling import measure_scaling
from ops.kafka_admin import consumer_lag, ensure_topics
from stream.decode import decode
from stream.processor import Processor
from stream.rules import load_rules
from stream.sink import Sink
from vigia import kafka, topics
from vigia.contracts import HousingContext, Metric, Reading
from vigia.reading_records import encode
from vigia.settings import Settings

RULES = """
rules:
  - id: bench-flood
    kind: threshold
    metric: flood_level
    above: 1.0
    for_minutes: 0.05
    clear_minutes: 0.05
    severity: warning
    title: {es: Agua subiendo, en: Water rising}
"""
RULE_SECONDS = 3.0


def bench_floor(settings: Settings, expected: int) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "bench.faust_floor", "--expected", str(expected)],
        env=worker_env(settings, Path("/dev/null")), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    found = re.search(r"floor_rps=(\d+)", out.stdout + out.stderr)  # Faust sends stdout to its log
    if found:
        return float(found.group(1))
    raise RuntimeError(f"the Faust floor printed no figure: {out.stderr[-2000:]}")


async def bench_plain(settings: Settings, records: int, starts: dict[TopicPartition, int], rules: Path) -> float:
    """Readings/s of the same decode, windows, rules and sink under a bare aiokafka consumer,
    over `records` records from `starts`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    sink = Sink(settings.db_conninfo, Processor(load_rules(rules), pane=60, window=900, lateness=120))
    try:
        consumer.assign(list(starts))
        for tp, offset in starts.items():
            consumer.seek(tp, offset)
        taken, done, first_at, first_n = 0, 0, None, 0
        while taken < records:
            fetched = await consumer.getmany(timeout_ms=500, max_records=2000)
            values = [r.value for batch in fetched.values() for r in batch]
            if not values:
                continue
            readings, _ = decode(values)
            await sink.write(readings, lambda tile: HousingContext())
            taken += len(values)
            done += len(readings)
            if first_at is None:
                first_at, first_n = time.perf_counter(), len(readings)
        return (done - first_n) / (time.perf_counter() - (first_at or 0))
    finally:
        await sink.close()
        await consumer.stop()


async def end_offsets(settings: Settings) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topics.READINGS, p) for p in sorted(consumer.partitions_for_topic(topics.READINGS) or [])
        ]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def steady(settings: Settings, sensors: int, rate: int, seconds: float) -> int:
    """Live flood readings at `rate`/s: each sensor above the limit for 6 s, then below for 6 s."""
    producer = kafka.producer(settings, linger_ms=5)
    await producer.start()
    sent = 0
    try:
        per_tick = rate // 10
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            tick = time.monotonic()
            now = datetime.now(UTC)
            for _ in range(per_tick):
                s = sent % sensors
                phase = int((time.time() + s) // 6) % 2
                reading = Reading(
                    sensor_id=f"lat-{s:04d}", district="bench", tile_id="17/1/1", metric=Metric.FLOOD_LEVEL,
                    value=1.5 if phase else 0.2, unit="m", event_time=now, received_at=now,
                )  # fmt: skip
                await producer.send(
                    topics.READINGS,
                    encode([reading]),
                    key=reading.sensor_id.encode(),
                    timestamp_ms=int(now.timestamp() * 1000),
                )
                sent += 1
            await asyncio.sleep(max(0.0, 0.1 - (time.monotonic() - tick)))
        await producer.flush()
    finally:
        await producer.stop()
    return sent


def caught_up(settings: Settings, timeout: float = 180) -> None:
    """Wait until the stream worker's group has committed everything on the readings topic."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            lag = asyncio.run(consumer_lag(settings.kafka_bootstrap, STREAM_GROUP, topics.READINGS))
        except KafkaError:
            lag = {0: -1}
        if lag and all(records == 0 for records in lag.values()):
            return
        time.sleep(1)
    raise TimeoutError("the stream worker did not catch up")


def alert_latencies(settings: Settings) -> list[float]:
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = conn.execute(
            """SELECT extract(epoch FROM e.recorded_at - a.opened_at) FROM alert_events e JOIN alerts a USING (alert_id)
               WHERE e.change = 'opened' AND a.sensor_id LIKE 'lat-%'"""
        ).fetchall()
    return sorted(float(r[0]) * 1000 for r in rows)


def percentile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def reading_delays(settings: Settings) -> list[float]:
    """Seconds from each live reading's event time to the start of the transaction that stored it."""
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = conn.execute(
            "SELECT extract(epoch FROM stored_at - time) FROM readings WHERE sensor_id LIKE 'lat-%' ORDER BY 1"
        ).fetchall()
    return [float(r[0]) for r in rows]


def measure_latency(settings: Settings, rules: Path, seconds: float) -> tuple[float, float]:
    """Live readings at 2,000/s through a worker that has caught up; returns alert p50 and p99 in ms."""
    print(f"latency: {seconds:.0f} s at 2,000 readings/s, a {RULE_SECONDS:.0f}-second rule ...", flush=True)
    with stream_workers(settings, rules, 1):
        caught_up(settings)  # the worker first reads past whatever backlog the topic holds
        asyncio.run(steady(settings, 400, 2000, seconds))
        time.sleep(5)
    delays = reading_delays(settings)
    print(
        f"  readings reached their rows after p50 {statistics.median(delays) * 1000:.0f} ms,"
        f" p99 {percentile(delays, 0.99) * 1000:.0f} ms"
    )
    latencies = alert_latencies(settings)
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    print(
        f"  {len(latencies)} alerts; p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        f" (the rule's {RULE_SECONDS * 1000:.0f} ms, plus at most 500 ms allowed)"
    )
    return p50, p99


@dataclass
class Shape:
    """One way the readings arrive: `pack` readings to a record."""

    pack: int
    faust: float = 0.0
    plain: float = 0.0
    floor: float = 0.0  # records/s

    @property
    def ratio_plain(self) -> float:
        return self.faust / self.plain


def measure_shape(settings: Settings, rules: Path, sensors: int, per_sensor: int, pack: int) -> Shape:
    """(b) the floor, (a) the worker and (c) the plain consumer on records of `pack` readings."""
    shape, expected = Shape(pack), sensors * per_sensor
    print(f"{pack}-reading records: producing {expected:,} readings of {sensors} sensors ...", flush=True)
    records = asyncio.run(produce(settings, f"fa{pack}", sensors, per_sensor, pack))
    print("(b) bare Faust floor ...", flush=True)
    shape.floor = bench_floor(settings, records)
    print(f"  {shape.floor:,.0f} records/s, {shape.floor * pack:,.0f} readings/s", flush=True)
    print("(a) Faust worker: windows, join, rules, sink ...", flush=True)
    shape.faust = bench_faust(settings, f"fa{pack}", expected, rules)
    print(f"  {shape.faust:,.0f} readings/s", flush=True)
    starts = asyncio.run(end_offsets(settings))
    asyncio.run(produce(settings, f"pl{pack}", sensors, per_sensor, pack))
    print("(c) plain aiokafka consumer, same pure code and sink ...", flush=True)
    shape.plain = asyncio.run(bench_plain(settings, records, starts, rules))
    print(f"  {shape.plain:,.0f} readings/s; the worker is {shape.ratio_plain:.2f} of it", flush=True)
    return shape


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--pack", type=int, default=10, help="readings a record in the packed runs")
    parser.add_argument("--steady-seconds", type=float, default=30.0)
    parser.add_argument("--latency-only", action="store_true", help="only the live phase, on a fresh worker")
    parser.add_argument("--scale-rounds", type=int, default=3, help="rounds of one worker against two")
    parser.add_argument("--scale-only", action="store_true", help="only one worker against two")
    args = parser.parse_args()
    per_sensor = args.readings // args.sensors
    rules = Path(tempfile.mkdtemp()) / "bench-rules.yaml"
    rules.write_text(RULES)
    print("starting Kafka and TimescaleDB on benchmark ports", flush=True)
    with bench_stack(["kafka", "timescaledb"]) as settings:
        asyncio.run(ensure_topics(settings))
        if args.latency_only:
            # A few readings for the worker to commit, so "caught up" means it is running.
            asyncio.run(produce(settings, "warm", 100, 10))
            p50, p99 = measure_latency(settings, rules, args.steady_seconds)
            print(f"alert_p50_ms={p50:.0f} alert_p99_ms={p99:.0f}")
            return
        if args.scale_only:
            scaling = measure_scaling(settings, rules, args.sensors, per_sensor, args.pack, args.scale_rounds)
            print(
                f"one_worker_rps={statistics.median(scaling.one):.0f}"
                f" two_workers_rps={statistics.median(scaling.two):.0f} two_workers_ratio={scaling.ratio:.2f}"
            )
            return
        single = measure_shape(settings, rules, args.sensors, per_sensor, 1)
        packed = measure_shape(settings, rules, args.sensors, per_sensor, args.pack)
        p50, p99 = measure_latency(settings, rules, args.steady_seconds)
        scaling = measure_scaling(settings, rules, args.sensors, per_sensor, args.pack, args.scale_rounds)
    print(
        f"faust_rps={single.faust:.0f} plain_rps={single.plain:.0f} faust_floor_rps={single.floor:.0f}"
        f" pack_faust_rps={packed.faust:.0f} pack_plain_rps={packed.plain:.0f}"
        f" two_workers_rps={statistics.median(scaling.two):.0f} two_workers_ratio={scaling.ratio:.2f}"
        f" alert_p50_ms={p50:.0f} alert_p99_ms={p99:.0f}"
        f" ratio_plain={single.ratio_plain:.2f} pack_ratio_plain={packed.ratio_plain:.2f}"
    )


if __name__ == "__main__":
    main()
