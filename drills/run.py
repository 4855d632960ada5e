"""Reliability drills: faults against the real local stack while numbered readings flow.

For each scenario a fresh set of sensors publishes numbered readings over MQTT (QoS 1, a
persistent session) at a steady rate; a fault is inflicted part way; then the drill counts
what reached TimescaleDB: readings sent, stored, lost, duplicated (rows stored twice, and
readings counted twice into the one-minute windows), and the time to recover (from the end
of the fault until everything sent before it was stored). The soak inflicts no fault: it
runs at the same rate for half an hour with alerts firing and judges consumer lag and
memory (`soak.py`). Loopback only, on its own ports, stopped and deleted at the end.

    python -m drills.run [--only bridge-kill,soak] [--rate 2000] [--seconds 40] [--soak-minutes 30]
                               [--soak-plot soak.png]

Last line: scenarios=… sent=… lost=… duplicated=…
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from bench.common import bench_stack
from drills import faults
from drills import inference as inference_drill
from drills import plot as soak_plot
from drills import soak as soak_drill
from drills.feed import REGISTRY_REFRESH_SECONDS, Feed, assess_tile, register, stored, unjoined
from vigia.settings import Settings

DRILL_ENV = {"VIGIA_REGISTRY_REFRESH_SECONDS": f"{REGISTRY_REFRESH_SECONDS:g}"}  # ports: bench/common.py
STACK = ["mosquitto", "kafka", "timescaledb", "mlflow", "bridge", "stream", "inference", "notifier", "api"]
LAG_LIMIT_S = 10.0  # the soak's bound: never this many seconds of readings behind
MEMORY_LIMIT = 0.10  # the soak's bound on each process's growth after the warm-up
console = Console(width=120)  # wide enough for the tables when printed to a file
Fault = Callable[[faults.Ended], None]  # inflicts one fault, telling `ended` the moment it is over


@dataclass
class Sample:
    at: float
    sent: int
    stored: int


@dataclass
class Result:
    scenario: str
    sent: int
    stored: int
    lost: int
    duplicated: int
    recovery: float | None
    faulted: bool = True
    passed: bool = True


def drill(settings: Settings, name: str, fault: Fault, *, rate: float, seconds: float, at: float) -> Result:
    prefix = name.replace("-", "")[:10]
    register(settings, prefix)
    feed = Feed(settings, prefix, rate, seconds)
    samples: list[Sample] = []
    publisher = threading.Thread(target=feed.run, daemon=True)
    publisher.start()

    def sample() -> None:
        try:
            samples.append(Sample(time.monotonic(), feed.sent, stored(settings, prefix).distinct))
        except psycopg.Error:
            samples.append(Sample(time.monotonic(), feed.sent, -1))  # the database is the fault

    time.sleep(at)
    console.print(f"  {name}: fault at {feed.sent:,} readings sent")
    ended: list[tuple[float, int]] = []
    fault(lambda: ended.append((time.monotonic(), feed.sent)))
    [(fault_end, sent_by_then)] = ended
    console.print(
        f"  {name}: fault over at {sent_by_then:,} readings sent;"
        f" healthy again {time.monotonic() - fault_end:.1f} s later"
    )
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
    held = stored(settings, prefix)
    caught_up = next((s.at for s in samples if s.at >= fault_end and s.stored >= sent_by_then), None)
    # Windows folded after the fault must still carry the tile's assessment (a restarted worker recovers it).
    missing, checked = unjoined(settings, prefix, feed.t0 + timedelta(milliseconds=sent_by_then))
    console.print(f"  {name}: {missing} of {checked} one-minute windows after the fault lack the tile's assessment")
    return Result(
        scenario=name, sent=feed.sent, stored=held.distinct, lost=held.lost(feed.sent), duplicated=held.duplicated,
        recovery=None if caught_up is None else caught_up - fault_end, passed=missing == 0 < checked,
    )  # fmt: skip


def inference_result(settings: Settings, tiles: int) -> Result:
    """Imagery tiles instead of readings: the worker killed with a third of them stored."""
    got = inference_drill.run(settings, tiles=tiles, kill_at=1 / 3)
    console.print(f"  inference-kill: tiles; killed at {got.at_kill}, {got.half_written} roll-ups half-written")
    return Result(
        scenario="inference-kill", sent=got.sent, stored=got.stored, lost=got.lost,
        duplicated=got.duplicated + got.half_written, recovery=got.recovery,
    )  # fmt: skip


def soak_result(settings: Settings, *, rate: float, minutes: float, warmup_s: float, plot: Path | None) -> Result:
    got = soak_drill.run(
        settings, rate=rate, minutes=minutes, warmup_s=warmup_s, report=lambda line: console.print(f"  soak: {line}")
    )
    if plot is not None:
        soak_plot.draw(got.samples, rate=rate, limit_s=LAG_LIMIT_S, memory_limit=MEMORY_LIMIT, warmup_s=warmup_s,
                       path=plot)  # fmt: skip
        console.print(f"  soak: plot in {plot}")
    memory = Table(title=f"Soak: {minutes:g} min at {rate:,.0f} readings/s, resident memory (PSS) from {warmup_s:g} s")
    for column in ("process", "after warm-up", "end", "peak", "growth", "shared segments"):
        memory.add_column(column, justify="left" if column == "process" else "right")
    grew_too_much = []
    for name, g in got.memory.items():
        shared = f"{got.shared_mib.get(name, 0):,.0f} MiB"
        if g is None:
            memory.add_row(name, "-", "-", "-", "too few samples", shared)
            continue
        if g.ratio >= MEMORY_LIMIT:
            grew_too_much.append(name)
        mib = [f"{v:,.0f} MiB" for v in (g.start_mib, g.end_mib, g.peak_mib)]
        memory.add_row(name, *mib, f"{g.ratio:+.1%}", shared)
    console.print(memory)
    bounded = got.lag is not None and got.lag.bounded(rate, limit_s=LAG_LIMIT_S)
    if got.lag is not None:
        console.print(
            f"  soak: lag (published, not yet durable) peak {got.lag.peak:,} readings ({got.lag.seconds(rate):.1f} s),"
            f" mean {got.lag.mean:,.0f}; median of the first third {got.lag.first_third_median:,.0f}"
            f" (peak {got.lag.first_third_peak:,}), of the last third {got.lag.last_third_median:,.0f}"
            f" (peak {got.lag.last_third_peak:,}); {len(got.samples.checkpoints)} PostgreSQL checkpoints:"
            f" {'bounded' if bounded else 'NOT bounded'}"
        )
    alerts_ok = got.owed.admits(got.alerts_opened, got.alerts_resolved)
    o = got.owed
    console.print(
        f"  soak: power-outage alerts opened {got.alerts_opened} (schedule: {o.opened_least}-{o.opened_most}),"
        f" resolved {got.alerts_resolved} ({o.resolved_least}-{o.resolved_most});"
        f" alert changes delivered {got.delivered} of {got.changes};"
        f" API polls {got.polls.ok} answered, {got.polls.failed} failed, slowest {got.polls.slowest_ms:.0f} ms"
    )
    passed = bounded and not grew_too_much and alerts_ok and got.delivered == got.changes and got.polls.failed == 0
    if grew_too_much:
        console.print(f"  soak: grew {MEMORY_LIMIT:.0%} or more: {', '.join(grew_too_much)}")
    return Result(
        scenario="soak", sent=got.sent, stored=got.held.distinct, lost=got.held.lost(got.sent),
        duplicated=got.held.duplicated,
        recovery=None, faulted=False, passed=passed,
    )  # fmt: skip


def scenarios(settings: Settings) -> dict[str, Fault]:
    return {
        "bridge-kill": lambda ended: faults.kill_and_hold(settings, "bridge", 10, ended),
        "stream-kill": lambda ended: faults.kill_and_hold(settings, "stream", 5, ended),
        "database-stop": lambda ended: faults.stop_and_hold(settings, "timescaledb", 30, ended),
        "kafka-pause": lambda ended: faults.pause(settings, "kafka", 20, ended),
        "kafka-restart": lambda ended: faults.stop_and_hold(settings, "kafka", 5, ended),
        "mosquitto-restart": lambda ended: faults.stop_and_hold(settings, "mosquitto", 5, ended),
        "mosquitto-kill": lambda ended: faults.kill_and_hold(settings, "mosquitto", 5, ended),
    }


def one(settings: Settings, name: str, chosen: dict[str, Fault], args: argparse.Namespace) -> Result:
    if name == "inference-kill":
        return inference_result(settings, args.tiles)
    if name == "soak":
        return soak_result(
            settings, rate=args.rate, minutes=args.soak_minutes, warmup_s=args.soak_warmup, plot=args.soak_plot
        )
    return drill(settings, name, chosen[name], rate=args.rate, seconds=args.seconds, at=args.fault_at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--rate", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=40, help="how long each fault scenario publishes")
    parser.add_argument("--fault-at", type=float, default=10, help="seconds into publishing")
    parser.add_argument("--tiles", type=int, default=1500, help="imagery tiles queued for the inference drill")
    parser.add_argument("--soak-minutes", type=float, default=30, help="how long the soak publishes")
    parser.add_argument("--soak-warmup", type=float, default=300, help="seconds of the soak before memory is judged")
    parser.add_argument("--soak-plot", type=Path, help="draw the soak's lag and memory over time into this PNG")
    args = parser.parse_args()
    os.environ.update(DRILL_ENV)
    results: list[Result] = []
    with bench_stack(STACK) as settings:
        chosen = scenarios(settings)
        assess_tile(settings)
        known = [*chosen, "inference-kill", "soak"]
        names = [n for n in args.only.split(",") if n] or known
        if unknown := sorted(set(names) - set(known)):
            parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
        for name in names:
            console.print(f"[bold]{name}[/bold]")
            try:
                results.append(one(settings, name, chosen, args))
            except Exception as error:  # noqa: BLE001  # one scenario's failure must not hide the others' figures
                console.print(f"  {name}: the drill itself failed: {error!r}")
                results.append(Result(name, 0, 0, 0, 0, None, passed=False))
    table = Table(title=f"Drills at {args.rate:,.0f} readings/s")
    for column in ("scenario", "sent", "stored", "lost", "duplicated", "time to recover"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for r in results:
        recovery = "no fault" if not r.faulted else "never" if r.recovery is None else f"{r.recovery:.1f} s"
        table.add_row(r.scenario, f"{r.sent:,}", f"{r.stored:,}", f"{r.lost:,}", f"{r.duplicated:,}", recovery)
    console.print(table)
    failed = [r.scenario for r in results if not r.passed]
    if failed:
        console.print(f"bounds not met: {', '.join(failed)}")
    print(
        f"scenarios={len(results)} sent={sum(r.sent for r in results)} lost={sum(r.lost for r in results)}"
        f" duplicated={sum(r.duplicated for r in results)}"
    )


if __name__ == "__main__":
    main()
