"""Drills of a cluster: faults against three Kafka brokers, two bridges and three stream workers.

The stack runs Kafka as three nodes (replication factor 3, `min.insync.replicas` 2, six
partitions), two bridges in one MQTT shared subscription and three stream workers in one
consumer group (`fleet.py`). One district of sensors (2,000 by default) reports without a
break from scenario to scenario, its event time running on at `step_ms` per reading, with
power and water cuts on a schedule (`schedule.py`), so alerts open and resolve all through.
Each scenario is a stretch of that run with a fault in it:

- worker-kill: a stream worker SIGKILLed and not restarted (its partitions move);
- worker-add: a fourth worker joins mid-run;
- rolling-restart: every worker stopped and started again, one after another;
- broker-kill: a Kafka broker that does not lead the metadata quorum SIGKILLed for 60 s;
- leader-kill: then the one that does;
- bridge-kill: one bridge SIGKILLed; the other carries on, and the killed one returns after
  30 s (Mosquitto keeps a persistent session's share of a shared subscription for it);
- gateway-silent: a gateway's sensors fall silent for 30 minutes of event time, report
  fresh readings again, then upload what the gateway held.

For each: readings sent, stored, lost, duplicated (rows, and readings counted twice into
the one-minute windows), and the alerts: every outage the schedule owes raised exactly
once, dated and resolved as the readings say, and nothing else (`schedule.judge`); and how
often a worker tried a batch again. Loopback only, on its own ports, deleted at the end.

    python -m drills.cluster [--only worker-kill,leader-kill] [--rate 1000] [--sensors 2000] [--seconds 180]

Last line: scenarios=… sent=… lost=… duplicated=… alerts_expected=… alerts_wrong=…
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from bench.common import bench_stack
from drills.cluster_faults import BRIDGES, WORKERS, Fault, scenarios
from drills.feed import Feed, Stored, register, sensor_id, stored
from drills.fleet import Fleet, wait_members
from drills.growth import growth
from drills.memory import resident_mib
from drills.schedule import MINUTE_MS, Cycle, District, Gateway, Owed, judge
from stream.rules import StalenessRule, ThresholdRule, load_rules
from vigia.settings import Settings

CLUSTER_ENV = {
    "VIGIA_KAFKA_BOOTSTRAP": "127.0.0.1:30092,127.0.0.1:30094,127.0.0.1:30096",
    "VIGIA_KAFKA_CONTROLLER_PORT": "30093",
    "VIGIA_KAFKA_PARTITIONS": "6",
    "VIGIA_KAFKA_REPLICATION_FACTOR": "3",
    "VIGIA_KAFKA_MIN_INSYNC_REPLICAS": "2",
    "VIGIA_KAFKA_HEAP": "384m",
    "VIGIA_MQTT_SHARED_GROUP": "vigia-bridges",
    "VIGIA_REGISTRY_REFRESH_SECONDS": "2",
}
STACK = ["mosquitto", "kafka", "timescaledb"]
EVERY_WORKER = [*WORKERS, "stream-4"]  # the fourth joins in worker-add
PREFIX = "cl"
GATEWAY = "cl-gateway"
RETRIES_FEW = 10  # batches tried again in one scenario before the drill calls it more than a few
CARDINALITY = "cardinality"
SAMPLE_S = 10.0
BYTES_PER_KEY = 2048  # the bound on the stream workers' memory per sensor and metric
GROWTH = 0.05  # and on its growth after the warm-up
console = Console(width=130)
During = Callable[[Fleet, Settings, Feed], None]  # what the drill does while the feed publishes


@dataclass(frozen=True)
class Result:
    scenario: str
    sent: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    owed: int = 0
    wrong: int = 0
    retries: int = 0
    restarted: int = 0  # members that exited on their own (a stalled worker's watchdog) and were started again
    bytes_per_key: float | None = None  # the cardinality soak: stream workers' memory per sensor and metric
    growth: float | None = None  # and its growth after the warm-up
    note: str = ""

    @property
    def passed(self) -> bool:
        counted = self.lost == 0 == self.duplicated == self.wrong and self.sent > 0 and self.retries <= RETRIES_FEW
        memory = self.bytes_per_key is None or (self.bytes_per_key < BYTES_PER_KEY and (self.growth or 0) < GROWTH)
        return counted and memory and not self.note


def baseline(fleet: Fleet, settings: Settings) -> None:
    """Three workers and two bridges, whatever the last scenario left."""
    for name in [n for n in fleet.processes if n not in WORKERS + BRIDGES]:
        fleet.stop(name)
    for name in WORKERS + BRIDGES:
        if name not in fleet.processes:
            fleet.start(name)
    wait_members(settings, len(WORKERS), timeout=180)


def district(sensors: int, step_ms: int, readings: int) -> District:
    """Cuts all through the stretch but its calm tail, long enough to resolve the longest."""
    span = readings * step_ms
    water_cut, water_tail = 36 * MINUTE_MS, 50 * MINUTE_MS
    return District(
        sensors=sensors,
        step_ms=step_ms,
        power=Cycle(range(0, min(80, sensors // 2), 2), cycle_ms=12 * MINUTE_MS, cut_ms=6 * MINUTE_MS,
                    stagger_ms=67_000, until_ms=span - 12 * MINUTE_MS),
        water=Cycle(range(1, min(41, sensors // 2), 2), cycle_ms=span, cut_ms=water_cut,
                    stagger_ms=max(1, (span - water_tail) // 20), until_ms=span - water_tail),
    )  # fmt: skip


def gateway_of(d: District) -> Gateway:
    """A gateway carrying the first twenty power sensors (cut ones among them), silent for thirty
    minutes from the tenth, back with fresh readings, uploading its buffer four minutes later."""
    return Gateway(range(0, min(20, d.sensors)), silent_ms=10 * MINUTE_MS, back_ms=40 * MINUTE_MS,
                   upload_ms=44 * MINUTE_MS)  # fmt: skip


def alerts_stored(settings: Settings, t0: datetime, until: datetime, sensors: int) -> list[Owed]:
    """The district's alerts opened in the stretch, in the schedule's terms."""
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        rows = conn.execute(
            "SELECT sensor_id, rule, opened_at, resolved_at FROM alerts"
            " WHERE sensor_id LIKE %s AND opened_at >= %s AND opened_at < %s AND state <> 'withdrawn'",
            (f"{PREFIX}-%", t0, until),
        ).fetchall()

    def ms(at: datetime) -> int:
        return round((at - t0).total_seconds() * 1000)

    ids = {sensor_id(PREFIX, i, sensors): i for i in range(sensors)}
    return [Owed(ids[s], rule, ms(opened), ms(resolved) if resolved else None) for s, rule, opened, resolved in rows]


def owed(d: District, readings: int, gateway: Gateway | None) -> list[Owed]:
    rules = {r.id: r for r in load_rules().rules}
    found = []
    for cycle, rule_id in ((d.power, "power-outage"), (d.water, "water-outage")):
        rule = rules[rule_id]
        if not isinstance(rule, ThresholdRule):
            raise TypeError(f"{rule_id} is not a threshold rule")
        found += d.owed(cycle, rule_id, readings, for_ms=int(rule.for_minutes * MINUTE_MS),
                        clear_ms=int(rule.clear_minutes * MINUTE_MS))  # fmt: skip
    silent = rules["sensor-offline"]
    if gateway is not None and isinstance(silent, StalenessRule):
        found += d.offline_owed(gateway, silent.id, readings, silent_ms=int(silent.silent_minutes * MINUTE_MS))
    return found


def inflict(name: str, fault: Fault, at: float) -> During:
    def during(fleet: Fleet, settings: Settings, feed: Feed) -> None:
        time.sleep(at)
        console.print(f"  {name}: fault at {feed.sent:,} readings sent")
        if note := fault(fleet, settings):
            console.print(f"  {name}: {note}")
        console.print(f"  {name}: fault over at {feed.sent:,} readings sent")

    return during


def run_one(
    settings: Settings, fleet: Fleet, name: str, during: During, stretch: Stretch, args: argparse.Namespace
) -> Result:
    t0, d, readings = stretch.t0, stretch.district, stretch.readings
    gateway = gateway_of(d) if name == "gateway-silent" else None
    feed = Feed(
        settings, PREFIX, args.rate, readings / args.rate, values=d.values, t0=t0, sensors=d.sensors,
        named_as=args.registered, step_ms=d.step_ms, gateway=GATEWAY,
        holds=(lambda n: gateway.holds(d.sensor_of(n), d.at_ms(n))) if gateway else (lambda n: False),
        upload=(lambda n: d.at_ms(n) >= gateway.upload_ms) if gateway else (lambda n: False),
    )  # fmt: skip
    retried_before, restarts_before = fleet.retries(EVERY_WORKER), len(fleet.restarts)
    publisher = threading.Thread(target=feed.run, daemon=True)
    publisher.start()
    during(fleet, settings, feed)
    publisher.join()
    until = stretch.end
    held = wait_stored(settings, t0, until, feed.sent)
    time.sleep(5)  # a staleness alert resolves on the workers' next tick
    verdict = judge(owed(d, readings, gateway), alerts_stored(settings, t0, until, args.registered))
    for line in verdict.wrong[:10]:
        console.print(f"  {name}: {line}")
    if args.details is not None:
        with args.details.open("a") as out:
            out.writelines(f"{name}: {line}\n" for line in verdict.wrong)
    restarted = fleet.restarts[restarts_before:]
    if restarted:
        console.print(f"  {name}: exited on their own and started again: {', '.join(restarted)}")
    return Result(
        name, sent=feed.sent, stored=held.distinct, lost=held.lost(feed.sent), duplicated=held.duplicated,
        owed=verdict.owed, wrong=len(verdict.wrong), retries=fleet.retries(EVERY_WORKER) - retried_before,
        restarted=len(restarted),
    )  # fmt: skip


@dataclass(frozen=True)
class Stretch:
    """One scenario's part of the run: from `t0`, `readings` readings of `district`."""

    t0: datetime
    district: District
    readings: int

    @property
    def end(self) -> datetime:
        return self.t0 + timedelta(milliseconds=self.readings * self.district.step_ms)


def stretches(names: list[str], args: argparse.Namespace) -> dict[str, Stretch]:
    """Each scenario's stretch, one after another in event time, the last ending an hour ago:
    event time runs on from one scenario to the next and never passes the wall clock."""
    plan = []
    for name in names:
        soak = name == CARDINALITY
        sensors: int = args.soak_sensors if soak else args.sensors
        step_ms = MINUTE_MS // sensors if soak else args.step_ms  # the soak: each sensor once a minute
        seconds: float = args.soak_minutes * 60 if soak else args.seconds
        readings = int(args.rate * seconds) // sensors * sensors  # whole rounds: the next starts with sensor 0
        plan.append((name, sensors, step_ms, readings))
    total = timedelta(milliseconds=sum(step * readings for _, _, step, readings in plan))
    t0 = (datetime.now(UTC) - total - timedelta(hours=1)).replace(second=0, microsecond=0)
    found = {}
    for name, sensors, step_ms, readings in plan:
        found[name] = Stretch(t0, district(sensors, step_ms, readings), readings)
        t0 = found[name].end
    return found


def registered(args: argparse.Namespace, names: list[str]) -> int:
    """Sensors registered: the soak's district, when it runs, holds the scenarios' one (same ids, same kinds)."""
    sensors: int = max(args.sensors, args.soak_sensors) if CARDINALITY in names else args.sensors
    return sensors


def wait_stored(settings: Settings, t0: datetime, until: datetime, sent: int, quiet_s: float = 90) -> Stored:
    """Until every reading sent is stored, or nothing more arrives for `quiet_s`."""
    last, quiet_since = -1, time.monotonic()
    while True:
        held = stored(settings, PREFIX, t0, until)
        if held.distinct >= sent or time.monotonic() - quiet_since > quiet_s:
            return held
        if held.distinct != last:
            last, quiet_since = held.distinct, time.monotonic()
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--rate", type=float, default=1000, help="readings a second")
    parser.add_argument("--sensors", type=int, default=2000)
    parser.add_argument("--step-ms", type=int, default=20, help="event time between readings: 20 runs a day in 72 min")
    parser.add_argument("--seconds", type=float, default=180, help="how long each scenario publishes")
    parser.add_argument("--fault-at", type=float, default=40, help="seconds into publishing")
    parser.add_argument("--soak-sensors", type=int, default=20_000, help="the cardinality soak's district")
    parser.add_argument("--soak-minutes", type=float, default=30)
    parser.add_argument("--soak-warmup", type=float, default=480, help="seconds of the soak before memory is judged")
    parser.add_argument("--details", type=Path, help="append every alert found wrong to this file")
    args = parser.parse_args()
    faults_by_name = scenarios()
    known = [*faults_by_name, CARDINALITY]
    names = [n for n in args.only.split(",") if n] or known
    if unknown := sorted(set(names) - set(known)):
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    args.registered = registered(args, names)
    plan = stretches(names, args)
    everyone = district(args.registered, args.step_ms, 1)
    results: list[Result] = []
    with bench_stack(STACK, env=CLUSTER_ENV) as settings:
        os.environ.update(CLUSTER_ENV)
        register(settings, PREFIX, sensors=everyone.sensors, kind=everyone.kind, gateway=GATEWAY)
        fleet = Fleet(settings)
        fleet.watch()
        try:
            for name in names:
                console.print(f"[bold]{name}[/bold]")
                try:
                    baseline(fleet, settings)
                    if name == CARDINALITY:
                        results.append(soak(settings, fleet, plan[name], args))
                    else:
                        during = inflict(name, faults_by_name[name], args.fault_at)
                        results.append(run_one(settings, fleet, name, during, plan[name], args))
                except Exception as error:  # noqa: BLE001  # one scenario's failure must not hide the others' figures
                    console.print(f"  {name}: the drill itself failed: {error!r}")
                    results.append(Result(name, note=repr(error)))
        finally:
            fleet.stop_all()
    report(results, args)


def soak(settings: Settings, fleet: Fleet, stretch: Stretch, args: argparse.Namespace) -> Result:
    """The cardinality soak: its district's every sensor once a minute, the workers' memory sampled."""
    before = sum(worker_mib(fleet).values())
    samples: list[tuple[float, float]] = []

    def sample(fleet: Fleet, settings: Settings, feed: Feed) -> None:
        began = time.monotonic()
        while not feed.done.wait(SAMPLE_S):
            samples.append((time.monotonic() - began, sum(worker_mib(fleet).values())))
            if len(samples) % 30 == 0:
                console.print(f"  {CARDINALITY}: {feed.sent:,} readings sent, stream workers {samples[-1][1]:,.0f} MiB")

    result = run_one(settings, fleet, CARDINALITY, sample, stretch, args)
    grew = growth(samples, warmup_s=args.soak_warmup)
    if grew is None:
        return replace(result, note="too few memory samples after the warm-up")
    keys = stretch.district.sensors  # one metric each
    per_key = (grew.end_mib - before) * 2**20 / keys
    console.print(
        f"  {CARDINALITY}: stream workers {before:,.0f} MiB before, {grew.start_mib:,.0f} after the warm-up,"
        f" {grew.end_mib:,.0f} at the end (peak {grew.peak_mib:,.0f}): {per_key:,.0f} bytes per sensor and metric,"
        f" growth {grew.ratio:+.1%} after the warm-up"
    )
    return replace(result, bytes_per_key=per_key, growth=grew.ratio)


def worker_mib(fleet: Fleet) -> dict[str, float]:
    """Private resident memory of each stream worker (see `memory.py`)."""
    return {
        name: resident_mib(process.pid)[0]
        for name, process in fleet.processes.items()
        if name.startswith("stream-") and process.poll() is None
    }


def figure(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(results: list[Result], args: argparse.Namespace) -> None:
    soaked = next((r for r in results if r.bytes_per_key is not None), None)
    per_key, grew = (soaked.bytes_per_key, soaked.growth) if soaked else (None, None)
    table = Table(title=f"Cluster drills: {args.sensors:,} sensors at {args.rate:,.0f} readings/s, 3 brokers,"
                        f" 2 bridges, 3 workers")  # fmt: skip
    for column in ("scenario", "sent", "stored", "lost", "duplicated", "alerts owed", "alerts wrong", "retried",
                   "restarted"):  # fmt: skip
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        table.add_row(r.scenario, f"{r.sent:,}", f"{r.stored:,}", f"{r.lost:,}", f"{r.duplicated:,}", f"{r.owed:,}",
                      f"{r.wrong:,}", f"{r.retries:,}", f"{r.restarted:,}")  # fmt: skip
    console.print(table)
    if failed := [r.scenario for r in results if not r.passed]:
        console.print(f"bounds not met: {', '.join(failed)}")
    print(
        f"scenarios={len(results)} sent={sum(r.sent for r in results)} lost={sum(r.lost for r in results)}"
        f" duplicated={sum(r.duplicated for r in results)} alerts_expected={sum(r.owed for r in results)}"
        f" alerts_wrong={sum(r.wrong for r in results)} stream_bytes_per_sensor={figure(per_key, '.0f')}"
        f" growth_pct={figure(None if grew is None else 100 * grew, '.1f')}"
    )


if __name__ == "__main__":
    main()
