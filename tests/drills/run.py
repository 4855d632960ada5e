"""Reliability drills: faults against the real local stack while numbered readings flow.

For each scenario a fresh set of sensors publishes numbered readings over MQTT (QoS 1, a
persistent session) at a steady rate; a fault is inflicted part way; then the drill counts
what reached TimescaleDB: readings sent, stored, lost, duplicated (rows stored twice, and
readings counted twice into the one-minute windows), and the time to recover (from the end
of the fault until everything sent before it was stored). Loopback only, on its own ports,
stopped and deleted at the end.

    python -m tests.drills.run [--only bridge-kill,stream-kill] [--rate 2000] [--seconds 40]

Last line: scenarios=… sent=… lost=… duplicated=…
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from rich.console import Console
from rich.table import Table

from tests.bench.common import bench_stack
from tests.drills import faults
from tests.drills import inference as inference_drill
from vigia.ingest import repo
from vigia.settings import Settings

DRILL_ENV = {"VIGIA_REGISTRY_REFRESH_SECONDS": "2"}  # on the benchmarks' private ports (tests/bench/common.py)
DISTRICT = "drill"
SENSORS = 20
console = Console()


@dataclass
class Sample:
    at: float
    sent: int
    stored: int


@dataclass
class Feed:
    """Numbered readings: reading n is sensor n % SENSORS at t0 + n milliseconds, published at start + n / rate."""

    settings: Settings
    prefix: str
    rate: float
    seconds: float
    t0: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"drill-{self.prefix}", clean_session=False)
        client.username_pw_set(
            self.settings.mqtt_simulator_username, self.settings.mqtt_simulator_password.get_secret_value()
        )
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)  # keep everything while the broker is away; paho sends it on reconnect
        client.reconnect_delay_set(1, 4)
        client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=10)
        client.loop_start()
        last: mqtt.MQTTMessageInfo | None = None
        start = time.monotonic()
        try:
            for n in range(int(self.rate * self.seconds)):
                delay = start + n / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                at = self.t0 + timedelta(milliseconds=n)
                body = json.dumps({"ts": at.isoformat(), "water_pressure": 1.0}).encode()
                last = client.publish(f"vigia/{DISTRICT}/{self.prefix}-{n % SENSORS:02d}/telemetry", body, qos=1)
                self.sent = n + 1
            deadline = time.monotonic() + 120
            while last is not None and not last.is_published() and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            client.disconnect()
            client.loop_stop()
            self.done.set()


def stored(settings: Settings, prefix: str) -> tuple[int, int, int]:
    """(rows, distinct readings, readings counted into one-minute windows) of the scenario's sensors."""
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor_id, metric, time)) FROM readings WHERE sensor_id LIKE %s",
            (f"{prefix}-%",),
        ).fetchone() or (0, 0)
        windowed = conn.execute(
            "SELECT coalesce(sum(count), 0) FROM readings_1m WHERE sensor_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()
    return int(rows), int(distinct), int(windowed[0] if windowed else 0)


def register(settings: Settings, prefix: str) -> None:
    with psycopg.connect(settings.db_conninfo) as conn:
        for i in range(SENSORS):
            repo.upsert_sensor(
                conn, sensor_id=f"{prefix}-{i:02d}", sensor_type="water", district=DISTRICT,
                latitude=-12.0 - i / 1000, longitude=-77.0, tile_id="17/37500/69950", metrics=["water_pressure"],
            )  # fmt: skip
    time.sleep(float(DRILL_ENV["VIGIA_REGISTRY_REFRESH_SECONDS"]) * 2)  # the bridge reloads its registry


@dataclass
class Result:
    scenario: str
    sent: int
    stored: int
    lost: int
    duplicated: int
    recovery: float | None
    note: str = ""


def drill(
    settings: Settings, name: str, fault: Callable[[], None], *, rate: float, seconds: float, at: float
) -> Result:
    prefix = name.replace("-", "")[:10]
    register(settings, prefix)
    feed = Feed(settings, prefix, rate, seconds)
    samples: list[Sample] = []
    publisher = threading.Thread(target=feed.run, daemon=True)
    publisher.start()

    def sample() -> None:
        try:
            samples.append(Sample(time.monotonic(), feed.sent, stored(settings, prefix)[1]))
        except psycopg.Error:
            samples.append(Sample(time.monotonic(), feed.sent, -1))  # the database is the fault

    time.sleep(at)
    console.print(f"  {name}: fault at {feed.sent:,} readings sent")
    fault()
    fault_end, sent_by_then = time.monotonic(), feed.sent
    console.print(f"  {name}: fault over at {sent_by_then:,} readings sent")
    while not feed.done.is_set():
        sample()
        time.sleep(0.5)
    # Wait for the stream to store what was sent, or to stop making progress.
    quiet_since, last = time.monotonic(), -1
    while time.monotonic() - quiet_since < 45:
        sample()
        if samples[-1].stored >= feed.sent:
            break
        if samples[-1].stored != last:
            quiet_since, last = time.monotonic(), samples[-1].stored
        time.sleep(0.5)
    rows, distinct, windowed = stored(settings, prefix)
    caught_up = next((s.at for s in samples if s.at >= fault_end and s.stored >= sent_by_then), None)
    return Result(
        scenario=name, sent=feed.sent, stored=distinct, lost=feed.sent - distinct,
        duplicated=(rows - distinct) + max(0, windowed - distinct),
        recovery=None if caught_up is None else caught_up - fault_end,
    )  # fmt: skip


def inference_result(settings: Settings, tiles: int) -> Result:
    """Imagery tiles instead of readings: the worker killed with a third of them stored."""
    got = inference_drill.run(settings, tiles=tiles, kill_at=1 / 3)
    note = f"tiles; killed at {got['at_kill']}, {got['half_written']} roll-ups half-written"
    console.print(f"  inference-kill: {note}")
    return Result(
        scenario="inference-kill", sent=int(got["sent"]), stored=int(got["stored"]), lost=int(got["lost"]),
        duplicated=int(got["duplicated"]) + int(got["half_written"]), recovery=float(got["recovery"]), note=note,
    )  # fmt: skip


def scenarios(settings: Settings) -> dict[str, Callable[[], None]]:
    return {
        "bridge-kill": lambda: faults.kill_and_hold(settings, "bridge", 10),
        "stream-kill": lambda: faults.kill_and_hold(settings, "stream", 5),
        "database-stop": lambda: faults.stop_and_hold(settings, "timescaledb", 30),
        "kafka-pause": lambda: faults.pause(settings, "kafka", 20),
        "kafka-restart": lambda: faults.stop_and_hold(settings, "kafka", 5),
        "mosquitto-restart": lambda: faults.stop_and_hold(settings, "mosquitto", 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=40, help="how long each scenario publishes")
    parser.add_argument("--fault-at", type=float, default=10, help="seconds into publishing")
    parser.add_argument("--tiles", type=int, default=1500, help="imagery tiles queued for the inference drill")
    args = parser.parse_args()
    os.environ.update(DRILL_ENV)
    results: list[Result] = []
    with bench_stack(["mosquitto", "kafka", "timescaledb", "bridge", "stream", "inference"]) as settings:
        chosen = scenarios(settings)
        names = [n for n in args.only.split(",") if n] or [*chosen, "inference-kill"]
        for name in names:
            console.print(f"[bold]{name}[/bold]")
            if name == "inference-kill":
                results.append(inference_result(settings, args.tiles))
                continue
            results.append(drill(settings, name, chosen[name], rate=args.rate, seconds=args.seconds, at=args.fault_at))
    table = Table(title=f"Drills at {args.rate:,.0f} readings/s")
    for column in ("scenario", "sent", "stored", "lost", "duplicated", "time to recover"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        recovery = "never" if r.recovery is None else f"{r.recovery:.1f} s"
        table.add_row(r.scenario, f"{r.sent:,}", f"{r.stored:,}", f"{r.lost:,}", f"{r.duplicated:,}", recovery)
    console.print(table)
    print(
        f"scenarios={len(results)} sent={sum(r.sent for r in results)} lost={sum(r.lost for r in results)}"
        f" duplicated={sum(r.duplicated for r in results)}"
    )


if __name__ == "__main__":
    main()
