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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from bench.common import bench_stack
from drills import faults
from drills.feed import Feed, Stored, register, sensor_id, stored
from drills.fleet import Fleet, wait_members
from drills.schedule import MINUTE_MS, Cycle, District, Gateway, Owed, judge
from ops.kafka import Kafka, nodes
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
WORKERS = ["stream-1", "stream-2", "stream-3"]
EVERY_WORKER = [*WORKERS, "stream-4"]  # the fourth joins in worker-add
BRIDGES = ["bridge-1", "bridge-2"]
PREFIX = "cl"
GATEWAY = "cl-gateway"
RETRIES_FEW = 10  # batches tried again in one scenario before the drill calls it more than a few
DOWN_S = 60.0  # a broker's outage
BRIDGE_DOWN_S = 30.0
console = Console(width=130)
Fault = Callable[[Fleet, Settings], None]


@dataclass
class Result:
    scenario: str
    sent: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    owed: int = 0
    wrong: int = 0
    retries: int = 0
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.lost == 0 == self.duplicated == self.wrong and self.sent > 0 and self.retries <= RETRIES_FEW


def kill_broker(fleet: Fleet, settings: Settings, *, leader: bool) -> str:
    """SIGKILL the quorum's leader, or another node, for `DOWN_S`; returns which."""
    leading = Kafka(settings).quorum_leader()
    if leading is None:
        raise RuntimeError("Kafka's quorum tool named no leader")
    victim = next(n for n in nodes(settings) if (n.id == leading) == leader)
    faults.kill_and_hold(settings, victim.component, DOWN_S)
    return f"{victim.component} (node {victim.id}; leader was {leading})"


def broker_kill(fleet: Fleet, settings: Settings) -> None:
    console.print(f"  killed {kill_broker(fleet, settings, leader=False)}")


def leader_kill(fleet: Fleet, settings: Settings) -> None:
    console.print(f"  killed {kill_broker(fleet, settings, leader=True)}")


def worker_kill(fleet: Fleet, settings: Settings) -> None:
    fleet.kill("stream-3")


def worker_add(fleet: Fleet, settings: Settings) -> None:
    fleet.start("stream-4")
    wait_members(settings, len(WORKERS) + 1)


def gateway_silent(fleet: Fleet, settings: Settings) -> None:
    """Nothing to inflict: the feed's gateway falls silent and uploads its buffer itself."""


def rolling_restart(fleet: Fleet, settings: Settings) -> None:
    for worker in WORKERS:
        fleet.stop(worker)
        fleet.start(worker)
        wait_members(settings, len(WORKERS))


def bridge_kill(fleet: Fleet, settings: Settings) -> None:
    fleet.kill("bridge-2")
    time.sleep(BRIDGE_DOWN_S)
    fleet.start("bridge-2")


def scenarios() -> dict[str, Fault]:
    return {
        "worker-kill": worker_kill,
        "worker-add": worker_add,
        "rolling-restart": rolling_restart,
        "broker-kill": broker_kill,
        "leader-kill": leader_kill,
        "bridge-kill": bridge_kill,
        "gateway-silent": gateway_silent,
    }


def baseline(fleet: Fleet, settings: Settings) -> None:
    """Three workers and two bridges, whatever the last scenario left."""
    for name in [n for n in fleet.processes if n not in WORKERS + BRIDGES]:
        fleet.stop(name)
    for name in fleet.exited():
        fleet.processes.pop(name)
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
        power=Cycle(first=0, count=min(40, sensors // 4), cycle_ms=12 * MINUTE_MS, cut_ms=6 * MINUTE_MS,
                    stagger_ms=67_000, until_ms=span - 12 * MINUTE_MS),
        water=Cycle(first=sensors // 2, count=min(20, sensors // 4), cycle_ms=span, cut_ms=water_cut,
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
            " WHERE sensor_id LIKE %s AND opened_at >= %s AND opened_at < %s",
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


def run_one(
    settings: Settings, fleet: Fleet, name: str, fault: Fault, t0: datetime, d: District, args: argparse.Namespace
) -> Result:
    readings = rounds(args)
    gateway = gateway_of(d) if name == "gateway-silent" else None
    feed = Feed(
        settings, PREFIX, args.rate, readings / args.rate, values=d.values, t0=t0, sensors=d.sensors,
        step_ms=d.step_ms, gateway=GATEWAY,
        holds=(lambda n: gateway.holds(d.sensor_of(n), d.at_ms(n))) if gateway else (lambda n: False),
        upload=(lambda n: d.at_ms(n) >= gateway.upload_ms) if gateway else (lambda n: False),
    )  # fmt: skip
    retried_before = fleet.retries(EVERY_WORKER)
    publisher = threading.Thread(target=feed.run, daemon=True)
    publisher.start()
    time.sleep(args.fault_at)
    console.print(f"  {name}: fault at {feed.sent:,} readings sent")
    fault(fleet, settings)
    console.print(f"  {name}: fault over at {feed.sent:,} readings sent")
    publisher.join()
    until = t0 + timedelta(milliseconds=readings * d.step_ms)
    held = wait_stored(settings, t0, until, feed.sent)
    time.sleep(5)  # a staleness alert resolves on the workers' next tick
    verdict = judge(owed(d, readings, gateway), alerts_stored(settings, t0, until, d.sensors))
    for line in verdict.wrong[:10]:
        console.print(f"  {name}: {line}")
    if args.details is not None:
        with args.details.open("a") as out:
            out.writelines(f"{name}: {line}\n" for line in verdict.wrong)
    if exited := fleet.exited():
        console.print(f"  {name}: exited on their own: {', '.join(exited)}")
    return Result(
        name, sent=feed.sent, stored=held.distinct, lost=held.lost(feed.sent), duplicated=held.duplicated,
        owed=verdict.owed, wrong=len(verdict.wrong), retries=fleet.retries(EVERY_WORKER) - retried_before,
    )  # fmt: skip


def rounds(args: argparse.Namespace) -> int:
    """Readings of one scenario: whole rounds of the district, so the next starts with sensor 0."""
    sensors: int = args.sensors
    return int(args.rate * args.seconds) // sensors * sensors


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
    parser.add_argument("--details", type=Path, help="append every alert found wrong to this file")
    args = parser.parse_args()
    known = scenarios()
    names = [n for n in args.only.split(",") if n] or list(known)
    if unknown := sorted(set(names) - set(known)):
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    d = district(args.sensors, args.step_ms, rounds(args))
    stretch = timedelta(milliseconds=rounds(args) * args.step_ms)
    # Event time runs on from one scenario to the next and must never pass the wall clock.
    t0 = (datetime.now(UTC) - stretch * len(names) - timedelta(hours=1)).replace(second=0, microsecond=0)
    results: list[Result] = []
    with bench_stack(STACK, env=CLUSTER_ENV) as settings:
        os.environ.update(CLUSTER_ENV)
        register(settings, PREFIX, sensors=d.sensors, kind=d.kind, gateway=GATEWAY)
        fleet = Fleet(settings)
        try:
            for name in names:
                console.print(f"[bold]{name}[/bold]")
                try:
                    baseline(fleet, settings)
                    results.append(run_one(settings, fleet, name, known[name], t0, d, args))
                except Exception as error:  # noqa: BLE001  # one scenario's failure must not hide the others' figures
                    console.print(f"  {name}: the drill itself failed: {error!r}")
                    results.append(Result(name, note=repr(error)))
                t0 += stretch
        finally:
            fleet.stop_all()
    report(results, args)


def report(results: list[Result], args: argparse.Namespace) -> None:
    table = Table(title=f"Cluster drills: {args.sensors:,} sensors at {args.rate:,.0f} readings/s, 3 brokers,"
                        f" 2 bridges, 3 workers")  # fmt: skip
    for column in ("scenario", "sent", "stored", "lost", "duplicated", "alerts owed", "alerts wrong", "retried"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        table.add_row(r.scenario, f"{r.sent:,}", f"{r.stored:,}", f"{r.lost:,}", f"{r.duplicated:,}", f"{r.owed:,}",
                      f"{r.wrong:,}", f"{r.retries:,}")  # fmt: skip
    console.print(table)
    if failed := [r.scenario for r in results if not r.passed]:
        console.print(f"bounds not met: {', '.join(failed)}")
    print(
        f"scenarios={len(results)} sent={sum(r.sent for r in results)} lost={sum(r.lost for r in results)}"
        f" duplicated={sum(r.duplicated for r in results)} alerts_expected={sum(r.owed for r in results)}"
        f" alerts_wrong={sum(r.wrong for r in results)}"
    )


if __name__ == "__main__":
    main()
