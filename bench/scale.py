"""How cost grows with the sensors registered: 1,000, 10,000 and 100,000 in one district.

    python -m bench.scale [--counts 1000 10000 100000] [--minutes 17] [--plot docs/images/scale.png]

For each count, on a fresh district of that many sensors (a reading a minute each, event
time compressed): the bridge's registry (reading it whole, reading the 100 sensors changed
since, its memory, one look-up); the stream worker's pure processor fed every sensor's
readings minute by minute (memory held per sensor once its windows are in flight, and
time per reading); the API's district
status and tile GeoJSON (p50 and p99 of 60 calls, one at a time, with the readings of the
last minutes stored, through the running API); and the database's bytes per reading of
`readings`, its one-minute panes and its fifteen-minute windows, as the sink leaves them
for a sensor reporting once a minute. Prints a table, draws it, and ends with
`sensors=… status_p99_ms=… geojson_p99_ms=… stream_bytes_per_sensor=… db_bytes_per_reading=…
registry_load_ms=… registry_update_ms=…` for the largest count.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from api import keys
from api.access import Role
from bench.common import bench_stack, percentile
from ingest.registry import SensorRegistry
from ingest.repo import RegistryReader
from stream.processor import Processor
from stream.rules import load_rules
from vigia.contracts import HousingContext, reading_id
from vigia.reading_records import FlatReading
from vigia.settings import Settings

ORIGIN_X, ORIGIN_Y = 37_400, 69_900  # zoom-17 tiles of Lima's east
PER_TILE = 25  # sensors a tile, so a district of 100,000 covers 4,000 tiles
CHANGED = 100  # sensors changed between two reads of the registry


@dataclass
class Row:
    sensors: int
    registry_load_ms: float = 0.0
    registry_update_ms: float = 0.0  # reading what changed: CHANGED sensors
    registry_bytes_per_sensor: float = 0.0
    lookup_ns: float = 0.0
    stream_bytes_per_sensor: float = 0.0
    stream_us_per_reading: float = 0.0
    status_p50_ms: float = 0.0
    status_p99_ms: float = 0.0
    geojson_p50_ms: float = 0.0
    geojson_p99_ms: float = 0.0
    db_bytes_per_reading: float = 0.0


def district_of(count: int) -> str:
    return f"scale-{count}"


def sensor_ids(count: int) -> list[str]:
    return [f"scale{count}-{i:06d}" for i in range(count)]


def tile_of(i: int) -> str:
    n = i // PER_TILE
    side = 100
    return f"17/{ORIGIN_X + n % side}/{ORIGIN_Y + n // side}"


def register(settings: Settings, count: int) -> None:
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY sensors (sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics) FROM STDIN"
        ) as copy:
            for i, sensor in enumerate(sensor_ids(count)):
                copy.write_row((sensor, "water", district_of(count), -12.0, -77.0, tile_of(i), ["water_pressure"]))
        cur.execute("ANALYZE sensors")


def readings(count: int, minutes: int, start: datetime) -> list[list[FlatReading]]:
    """A batch a minute: every sensor's water pressure, in event-time order."""
    batches = []
    ids = sensor_ids(count)
    for minute in range(minutes):
        at = start + timedelta(minutes=minute)
        ts = at.timestamp()
        batches.append([
            FlatReading(sensor, district_of(count), tile_of(i), "water_pressure", 1.0 + (i + minute) % 9 / 10, "bar",
                        ts, ts, reading_id(sensor, "water_pressure", at))
            for i, sensor in enumerate(ids)
        ])  # fmt: skip
    return batches


def measure_registry(settings: Settings, row: Row) -> None:
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        # As if registered an hour ago: an update then reads only what changed since.
        conn.execute(
            "ALTER TABLE sensors DISABLE TRIGGER sensors_changed;"
            " UPDATE sensors SET changed_at = now() - interval '1 hour';"
            " ALTER TABLE sensors ENABLE TRIGGER sensors_changed"
        )
        reader = RegistryReader(lambda: conn)
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        registry = SensorRegistry(reader.everything, changes=reader.changes, refresh_seconds=30)
        registry.refresh()
        row.registry_load_ms = (time.perf_counter() - started) * 1000
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        ids = sensor_ids(row.sensors)
        conn.execute("UPDATE sensors SET place = 'moved' WHERE sensor_id = ANY(%s)", (ids[:CHANGED],))
        started = time.perf_counter()
        registry.update()
        row.registry_update_ms = (time.perf_counter() - started) * 1000
    row.registry_bytes_per_sensor = held / max(1, len(registry))
    probes = [ids[(i * 7919) % len(ids)] for i in range(100_000)]
    started = time.perf_counter()
    for sensor in probes:
        registry.get(sensor)
    row.lookup_ns = (time.perf_counter() - started) / len(probes) * 1e9


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure_stream(batches: list[list[FlatReading]], row: Row) -> None:
    """Time a reading and the resident memory the windows add (tracemalloc would slow the
    folding tenfold, and the process's own growth is what a deployment pays)."""
    processor = Processor(load_rules(), pane=60, window=900, lateness=120)
    housing = HousingContext()
    gc.collect()
    before = resident_bytes()
    started, done = time.perf_counter(), 0
    for batch in batches:
        processor.process(batch, lambda tile: housing, wall=time.time())
        done += len(batch)
    elapsed = time.perf_counter() - started
    gc.collect()
    row.stream_bytes_per_sensor = (resident_bytes() - before) / row.sensors
    row.stream_us_per_reading = elapsed / done * 1e6


def store(settings: Settings, batches: list[list[FlatReading]]) -> None:
    """The readings and their one-minute windows, as the sink would leave them."""
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY readings (time, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id)"
            " FROM STDIN"
        ) as copy:
            for batch in batches:
                for r in batch:
                    at = datetime.fromtimestamp(r.ts, UTC)
                    copy.write_row((at, r.sensor_id, r.metric, r.value, r.unit, r.reading_id, at, r.district,
                                    r.tile_id))  # fmt: skip
        # A pane a reading (one a minute), with its one-value sample, and the hopping window ending there.
        cur.execute(
            """INSERT INTO readings_1m (bucket, sensor_id, metric, count, min, max, mean, last, last_event_time,
                                        sum, mad, last_key, sample, district, tile_id)
               SELECT time_bucket('1 minute', time), sensor_id, metric, 1, value, value, value, value, time,
                      value, 0, 0, decode(repeat('00', 16), 'hex'), district, tile_id
               FROM readings WHERE district = %(d)s ON CONFLICT DO NOTHING""",
            {"d": batches[0][0].district},
        )
        cur.execute(
            """INSERT INTO readings_15m (window_end, sensor_id, metric, count, min, max, mean, last, mad,
                                         last_event_time, district, tile_id)
               SELECT bucket + interval '1 minute', sensor_id, metric, 15, min, max, mean, last, 0, last_event_time,
                      district, tile_id
               FROM readings_1m WHERE district = %(d)s ON CONFLICT DO NOTHING""",
            {"d": batches[0][0].district},
        )
        cur.execute("ANALYZE readings; ANALYZE readings_1m; ANALYZE readings_15m")


def stored_bytes(settings: Settings) -> tuple[int, int]:
    """(bytes of the readings and their windows, tables and indexes; readings stored)."""
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        row = conn.execute(
            """SELECT hypertable_size('readings') + hypertable_size('readings_1m') + hypertable_size('readings_15m'),
                      (SELECT count(*) FROM readings)"""
        ).fetchone()
    return (int(row[0] or 0), int(row[1])) if row else (0, 0)


def measure_api(settings: Settings, key: str, row: Row, calls: int = 60) -> None:
    base = f"http://{settings.api_host}:{settings.api_port}"
    district = district_of(row.sensors)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        for path, name in ((f"/districts/{district}", "status"), (f"/districts/{district}/tiles.geojson", "geojson")):
            client.get(path).raise_for_status()  # warm the cache: the figures are for a running service
            took = []
            for _ in range(calls):
                started = time.perf_counter()
                client.get(path).raise_for_status()
                took.append((time.perf_counter() - started) * 1000)
            setattr(row, f"{name}_p50_ms", statistics.median(took))
            setattr(row, f"{name}_p99_ms", percentile(took, 0.99))


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    counts = [r.sensors for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, label in (("status_p99_ms", "district status p99"), ("geojson_p99_ms", "tile GeoJSON p99"),
                        ("registry_load_ms", "registry read whole"),
                        ("registry_update_ms", f"registry update ({CHANGED} changed)")):  # fmt: skip
        left.plot(counts, [getattr(r, name) for r in rows], marker="o", label=label)
    left.axhline(100, color="grey", linestyle="--", linewidth=1, label="status target (100 ms)")
    left.set(xscale="log", yscale="log", xlabel="sensors registered", ylabel="ms", title="Latency")
    left.legend(fontsize=8)
    for name, label in (("registry_bytes_per_sensor", "bridge registry, bytes/sensor"),
                        ("stream_bytes_per_sensor", "stream windows, bytes/sensor"),
                        ("db_bytes_per_reading", "database, bytes/reading")):  # fmt: skip
        right.plot(counts, [getattr(r, name) for r in rows], marker="o", label=label)
    right.set(xscale="log", xlabel="sensors registered", ylabel="bytes", title="Memory and storage")
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument(
        "--minutes", type=int, default=17, help="minutes of readings from every sensor (17: a window and its lateness)"
    )
    parser.add_argument("--plot", type=Path, default=None, help="also draw the figures here (PNG)")
    args = parser.parse_args()
    rows = []
    print("starting TimescaleDB and the API on benchmark ports", flush=True)
    with bench_stack(["timescaledb", "api"]) as settings:
        with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
            _, key = keys.add(conn, role=Role.OPERATOR, district=None, name="bench")
        start = (datetime.now(UTC) - timedelta(minutes=args.minutes)).replace(second=0, microsecond=0)
        for count in args.counts:
            print(f"{count:,} sensors: registering, {args.minutes} minutes of readings ...", flush=True)
            row = Row(count)
            register(settings, count)
            measure_registry(settings, row)
            batches = readings(count, args.minutes, start)
            measure_stream(batches, row)
            size_before, rows_before = stored_bytes(settings)
            store(settings, batches)
            size_after, rows_after = stored_bytes(settings)
            row.db_bytes_per_reading = (size_after - size_before) / max(1, rows_after - rows_before)
            measure_api(settings, key, row)
            rows.append(row)
            print(
                f"  registry {row.registry_load_ms:,.0f} ms whole, {row.registry_update_ms:,.1f} ms for"
                f" {CHANGED} changed, {row.registry_bytes_per_sensor:,.0f} B/sensor,"
                f" look-up {row.lookup_ns:,.0f} ns; stream {row.stream_bytes_per_sensor:,.0f} B/sensor,"
                f" {row.stream_us_per_reading:.1f} µs/reading; status p50 {row.status_p50_ms:.1f}"
                f" p99 {row.status_p99_ms:.1f} ms; GeoJSON p50 {row.geojson_p50_ms:.1f}"
                f" p99 {row.geojson_p99_ms:.1f} ms",
                flush=True,
            )
    print()
    header = ("sensors", "registry ms", f"update ms ({CHANGED} changed)", "B/sensor", "look-up ns", "stream B/sensor",
              "µs/reading", "status p99 ms", "GeoJSON p99 ms", "DB B/reading")  # fmt: skip
    print(" | ".join(header))
    for r in rows:
        print(
            f"{r.sensors:,} | {r.registry_load_ms:,.0f} | {r.registry_update_ms:,.1f}"
            f" | {r.registry_bytes_per_sensor:,.0f} | {r.lookup_ns:,.0f}"
            f" | {r.stream_bytes_per_sensor:,.0f} | {r.stream_us_per_reading:.1f} | {r.status_p99_ms:.1f}"
            f" | {r.geojson_p99_ms:.1f} | {r.db_bytes_per_reading:,.0f}"
        )
    if args.plot:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")
    largest = rows[-1]
    print(
        f"sensors={largest.sensors} status_p99_ms={largest.status_p99_ms:.1f}"
        f" geojson_p99_ms={largest.geojson_p99_ms:.1f} stream_bytes_per_sensor={largest.stream_bytes_per_sensor:.0f}"
        f" db_bytes_per_reading={largest.db_bytes_per_reading:.0f} registry_load_ms={largest.registry_load_ms:.0f}"
        f" registry_update_ms={largest.registry_update_ms:.1f}"
    )


if __name__ == "__main__":
    main()
