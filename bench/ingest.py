"""Bridge throughput: MQTT QoS 1 in, Kafka acks=all out, against C tools doing the same hop.

Each contender drains the same backlog: N single-reading messages published while it was
away and held by Mosquitto in its persistent session. That measures the hop itself, not
the speed of a publisher sharing the same two cores. The clock runs from the first reading
reaching Kafka to the last (the bridge writes a record per sensor per batch; the reference,
one per message). The reference is `mosquitto_sub | kcat -P`: C clients with no
validation, which acknowledge MQTT before Kafka has the record.

    python -m bench.ingest [--messages 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
import psycopg
from aiokafka import AIOKafkaConsumer

from bench.common import OffsetWatch, bench_stack, partitions_of
from ops.kafka_admin import ensure_topics
from simulate.simulator import Publisher
from vigia import registry, topics
from vigia.heartbeat import age, clear, heartbeat_path
from vigia.reading_records import decode
from vigia.settings import Settings
from vigia.topics import TopicSpec

DISTRICT = "bench"
REFERENCE_TOPIC = "vigia.bench.reference"


@dataclass(frozen=True)
class Result:
    name: str
    messages: int
    seconds: float
    delivered: int  # readings that reached Kafka in the end: the backlog exactly, or something was lost or doubled
    expected: int
    distinct: int | None = None  # different reading ids among them, where they are known

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else float("nan")


def register(settings: Settings, count: int) -> list[str]:
    ids = [f"bench-{i:04d}" for i in range(count)]
    with psycopg.connect(settings.db_conninfo) as conn:
        for sensor_id in ids:
            registry.upsert_sensor(
                conn, sensor_id=sensor_id, sensor_type="water", district=DISTRICT, latitude=-12.0, longitude=-77.0,
                tile_id="17/37499/69929", metrics=["water_pressure"],
            )  # fmt: skip
    return ids


def payload(i: int, ts: float, per_message: int) -> bytes:
    """One reading in the plain form, or a water sensor's SenML pack of `per_message` readings."""
    if per_message == 1:
        return orjson.dumps({"ts": ts, "water_pressure": 1.0 + (i % 100) / 100})
    metrics = ["water_pressure", "tank_level", "flow", "battery"][:per_message]
    return orjson.dumps(
        [{"bt": ts, "n": metrics[0], "u": "kPa", "v": 120 + i % 50}]
        + [{"n": name, "v": 10 + i % 50} for name in metrics[1:]]
    )


def publish_backlog(settings: Settings, sensors: list[str], messages: int, per_message: int = 1) -> None:
    now = datetime.now(UTC).timestamp()
    with Publisher(settings, client_id="bench-publisher") as publisher:
        pending = []
        for i in range(messages):
            sensor = sensors[i % len(sensors)]
            body = payload(i, now - (messages - i) / 1000, per_message)
            pending.append(publisher.publish(f"vigia/{DISTRICT}/{sensor}/telemetry", body))
            if len(pending) >= 400:
                for info in pending:
                    info.wait_for_publish(30)
                pending.clear()
        for info in pending:
            info.wait_for_publish(30)


class ReadingWatch:
    """Reads the readings topic from where it ends now: times the arrival of `expected` readings
    (a record carries a sensor's readings of one bridge batch) and keeps every reading's id, so
    one lost or doubled shows."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ids: list[str] = []

    def wait(self, expected: int, timeout: float = 300, alive: Callable[[], bool] = lambda: True) -> tuple[float, int]:
        """(seconds from the first reading to the last, readings in that span); then reads on for
        two seconds, so anything doubled arrives."""

        async def watch() -> tuple[float, int]:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False)
            await consumer.start()
            try:
                partitions = await partitions_of(consumer, topics.READINGS)
                consumer.assign(partitions)
                for tp, offset in (await consumer.end_offsets(partitions)).items():
                    consumer.seek(tp, offset)
                first_at, first_count, done_at = None, 0, None
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if done_at is None and not alive():
                        raise RuntimeError("a contender exited before the backlog was drained")
                    fetched = await consumer.getmany(timeout_ms=50, max_records=10_000)
                    self.ids += [r.reading_id for batch in fetched.values() for m in batch for r in decode(m.value)]
                    now = time.perf_counter()
                    if first_at is None and self.ids:
                        first_at, first_count = now, len(self.ids)
                    if done_at is None and len(self.ids) >= expected and first_at is not None:
                        done_at, done_count = now, len(self.ids)
                    if done_at is not None and now - done_at > 2:
                        return done_at - (first_at or done_at), done_count - first_count
                raise TimeoutError(f"only {len(self.ids)} of {expected} readings reached {topics.READINGS}")
            finally:
                await consumer.stop()

        return asyncio.run(watch())


def start_bridges(settings: Settings, count: int, tag: str) -> list[subprocess.Popen[bytes]]:
    processes = []
    for index in range(count):
        env = {
            **os.environ,
            "VIGIA_MQTT_CLIENT_ID": f"bench-{tag}-{index}",
            "VIGIA_MQTT_SHARED_GROUP": f"bench-{tag}" if count > 1 else "",
        }
        log = (settings.log_dir / f"bench-bridge-{tag}-{index}.log").open("ab")
        processes.append(
            subprocess.Popen([sys.executable, "-m", "ops", "bridge", "run"], env=env, stdout=log, stderr=log)
        )
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(30)


def make_sessions(settings: Settings, count: int, tag: str) -> None:
    """Connect each bridge once so Mosquitto holds a session and subscription for it."""
    beat = heartbeat_path(settings.state_dir, "bridge")
    clear(beat)
    processes = start_bridges(settings, count, tag)
    deadline = time.monotonic() + 60
    while (age(beat) is None) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.0)  # every bridge connected and subscribed
    stop(processes)


def bench_bridge(
    settings: Settings, sensors: list[str], messages: int, count: int, tag: str, per_message: int = 1
) -> Result:
    make_sessions(settings, count, tag)
    publish_backlog(settings, sensors, messages, per_message)
    messages *= per_message  # what reaches Kafka is readings
    watch = ReadingWatch(settings)
    processes = start_bridges(settings, count, tag)
    try:
        seconds, counted = watch.wait(messages, alive=lambda: all(p.poll() is None for p in processes))
    finally:
        stop(processes)
    name = f"bridge x{count}, {len(sensors)} sensors" + (f", {per_message} per message" if per_message > 1 else "")
    return Result(name, counted, seconds, len(watch.ids), messages, distinct=len(set(watch.ids)))


def bench_reference(settings: Settings, sensors: list[str], messages: int, tag: str) -> Result:
    mqtt = [
        "mosquitto_sub", "-h", settings.mqtt_host, "-p", str(settings.mqtt_port),
        "-u", settings.mqtt_username, "-P", settings.mqtt_password.get_secret_value(),
        "-i", f"bench-ref-{tag}", "-c", "-q", "1", "-t", "vigia/+/+/telemetry",
    ]  # fmt: skip
    subprocess.run([*mqtt, "-W", "2"], check=False, capture_output=True)  # creates the session
    watch = OffsetWatch(settings, REFERENCE_TOPIC)
    publish_backlog(settings, sensors, messages)
    sub = subprocess.Popen([*mqtt, "-C", str(messages), "-F", "%t\t%p"], stdout=subprocess.PIPE)
    kcat = subprocess.Popen(
        ["kcat", "-P", "-b", settings.kafka_bootstrap, "-t", REFERENCE_TOPIC, "-K", "\t",
         "-X", "acks=all", "-X", "linger.ms=5", "-X", "enable.idempotence=true"],
        stdin=sub.stdout,
    )  # fmt: skip
    if sub.stdout is None:
        raise RuntimeError("mosquitto_sub was started without a pipe")
    sub.stdout.close()
    try:
        seconds, counted = watch.wait(messages)
    finally:
        sub.wait(30)
        kcat.wait(30)
    delivered = watch.count()
    return Result(f"reference mosquitto_sub | kcat, {len(sensors)} sensors", counted, seconds, delivered, messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--few", type=int, default=10)
    parser.add_argument("--many", type=int, default=1000)
    args = parser.parse_args()
    print("starting Mosquitto, Kafka and TimescaleDB on benchmark ports", flush=True)
    with bench_stack(["mosquitto", "kafka", "timescaledb"]) as settings:
        asyncio.run(ensure_topics(settings, (TopicSpec(REFERENCE_TOPIC),)))
        results: list[Result] = []
        for size in (args.few, args.many):
            sensors = register(settings, size)
            for name in ("one bridge", "two bridges", "reference"):
                print(f"{name}, {size} sensors: draining {args.messages} messages ...", flush=True)
                if name == "reference":
                    result = bench_reference(settings, sensors, args.messages, f"ref{size}")
                else:
                    count = 1 if name == "one bridge" else 2
                    result = bench_bridge(settings, sensors, args.messages, count, f"x{count}-{size}")
                results.append(result)
                print(f"  {result.rate:,.0f} readings/s", flush=True)
        print(f"one bridge, {args.many} sensors, SenML packs of 4 readings: draining ...", flush=True)
        results.append(bench_bridge(settings, sensors, args.messages // 4, 1, f"pack-{args.many}", per_message=4))
        print(f"  {results[-1].rate:,.0f} readings/s", flush=True)
        print()
        print(f"{'scenario':<60}{'timed':>8}{'seconds':>9}{'readings/s':>12}{'delivered':>11}  exact")
        for r in results:
            doubled = r.delivered - r.distinct if r.distinct is not None else 0
            exact = "yes" if r.delivered == r.expected and not doubled else f"NO ({r.delivered - r.expected:+d})"
            print(f"{r.name:<60}{r.messages:>8}{r.seconds:>9.2f}{r.rate:>12,.0f}{r.delivered:>11}  {exact}")
        bridge = next(r for r in results if r.name == f"bridge x1, {args.many} sensors")
        reference = next(r for r in results if r.name == f"reference mosquitto_sub | kcat, {args.many} sensors")
        pair = next(r for r in results if r.name == f"bridge x2, {args.many} sensors")
        print(
            f"bridge_rps={bridge.rate:.0f} reference_rps={reference.rate:.0f} ratio={bridge.rate / reference.rate:.2f} "
            f"two_bridges_rps={pair.rate:.0f} two_bridges_ratio={pair.rate / reference.rate:.2f}"
        )


if __name__ == "__main__":
    main()
