"""How much memory the stream worker's windows hold per sensor and metric, and whether it grows.

    python -m bench.state [--sensors 500] [--hours 6]

Feeds the worker's pure `Processor` (the one the Faust agent calls) a reading a minute from
each sensor's water pressure and tank level, in event-time order, a batch per minute, and
measures with tracemalloc the bytes its window book holds after a two-hour warm-up and at
the end. The same run is repeated with eviction switched off as the peer: what the worker
held before panes were evicted. Last line:
`bytes_per_key=… limit_bytes=2048 ratio_limit=… growth_pct=… peer_bytes_per_key=… peer_growth_pct=…`
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from stream.processor import Processor
from stream.rules import load_rules
from vigia.contracts import HousingContext, Metric, reading_id
from vigia.reading_records import FlatReading

LIMIT_BYTES = 2048  # per active sensor and metric
WARMUP_HOURS = 2.0
METRICS = (Metric.WATER_PRESSURE, Metric.TANK_LEVEL)
T0 = datetime(2026, 3, 2, 5, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Held:
    warm_bytes: int
    end_bytes: int
    keys: int
    readings: int
    seconds: float

    @property
    def per_key(self) -> float:
        return self.end_bytes / self.keys

    @property
    def growth(self) -> float:
        return self.end_bytes / self.warm_bytes - 1 if self.warm_bytes else 0.0


def batch(minute: int, sensors: int) -> list[FlatReading]:
    when = T0 + timedelta(minutes=minute)
    at = when.timestamp()
    return [
        FlatReading(
            sensor_id=f"bench-{s:05d}",
            district="bench",
            tile_id="17/1/1",
            metric=metric.value,
            value=1.2 + (s + minute) % 7 / 10,
            unit="bar",
            ts=at,
            received_at=at,
            reading_id=reading_id(f"bench-{s:05d}", metric.value, when),
        )
        for s in range(sensors)
        for metric in METRICS
    ]


def run(sensors: int, hours: float, *, evict: bool) -> Held:
    processor = Processor(load_rules(), pane=60, window=900, lateness=120)
    if not evict:
        processor.windows.evict = lambda keys=None: 0  # type: ignore[method-assign]  # the peer: nothing dropped
    unassessed = HousingContext()
    minutes = int(hours * 60)
    warm_at = int(WARMUP_HOURS * 60)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    warm = 0
    readings = 0
    started = time.perf_counter()
    for minute in range(minutes):
        fed = batch(minute, sensors)
        readings += len(fed)
        processor.process(fed, lambda tile: unassessed, wall=0.0)
        del fed  # the batch is the feed's, not the worker's: only what the processor keeps is counted
        if minute == warm_at:
            gc.collect()
            warm = tracemalloc.get_traced_memory()[0] - base
        if minute % 60 == 0:
            print(f"  {'evicting' if evict else 'peer'}: hour {minute // 60} of {hours:g}", flush=True)
    gc.collect()
    end = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return Held(warm, end, sensors * len(METRICS), readings, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--hours", type=float, default=6.0)
    args = parser.parse_args()
    if args.hours <= WARMUP_HOURS:
        parser.error(f"--hours must be more than the {WARMUP_HOURS:g}-hour warm-up")
    held = run(args.sensors, args.hours, evict=True)
    peer = run(args.sensors, args.hours, evict=False)
    for name, h in (("evicting", held), ("peer, no eviction", peer)):
        print(
            f"{name:<18} {h.keys:>6} keys  {h.readings:>9,} readings  {h.per_key:>9,.0f} B/key at the end"
            f"  {h.growth * 100:>6.1f}% growth after the warm-up"
        )
    print(
        f"bytes_per_key={held.per_key:.0f} limit_bytes={LIMIT_BYTES} ratio_limit={held.per_key / LIMIT_BYTES:.2f}"
        f" growth_pct={held.growth * 100:.1f} peer_bytes_per_key={peer.per_key:.0f}"
        f" peer_growth_pct={peer.growth * 100:.1f}"
    )


if __name__ == "__main__":
    main()
