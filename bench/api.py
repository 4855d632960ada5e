"""API benchmark: latency percentiles and throughput on loopback, against a seeded database.

Seeds a month of one-minute windows for a few sensors and a day of raw readings and windows
for many, plus a month of alerts; then drives the API with open-loop load (requests are sent
on a fixed schedule, and latency is counted from the scheduled time, so a slow answer
cannot hide the requests queued behind it):

  1. latest and district status together at --rate requests/s (target: p99 under 50 ms at 200/s)
  2. the alerts list of a district
  3. a 30-day series of one-minute windows for one sensor (target: p99 under 150 ms)
  4. throughput: --clients callers back to back on latest, against /livez (no database) as the peer

First, the capacity: `wrk` (a C load generator, so the client is not what is measured)
drives /livez and latest with --clients connections on one thread each of its own; the
open-loop rate of (1) is then checked to be below what was found.

Last line: latest_p99_ms=… alerts_p99_ms=… series30d_p99_ms=… rps=… livez_rps=… latest_rps=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from api import keys
from api.access import Role
from bench.common import bench_stack, percentile
from vigia.settings import Settings

DISTRICTS = ["ate", "comas", "sjl", "villa-el-salvador"]
METRICS = [("water_pressure", "bar"), ("tank_level", "%")]
LONG_SENSORS = 3  # sensors with a month of one-minute windows


def sensor_ids(count: int) -> list[str]:
    return [f"bench-{i:04d}" for i in range(count)]


def seed(settings: Settings, sensors: int, alerts: int) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    rng = random.Random(7)
    ids = sensor_ids(sensors)
    place = {s: (DISTRICTS[i % len(DISTRICTS)], f"17/{37500 + i % 40}/{69950 + i // 40}") for i, s in enumerate(ids)}
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        with conn.cursor().copy(
            "COPY sensors (sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics) FROM STDIN"
        ) as copy:
            for s in ids:
                copy.write_row((s, "water", place[s][0], -12.0, -77.0, place[s][1], [m for m, _ in METRICS]))
        started = time.perf_counter()
        rows = 0
        with conn.cursor().copy(
            "COPY readings (time, sensor_id, metric, value, unit, reading_id, received_at, district, tile_id)"
            " FROM STDIN"
        ) as copy:
            for s in ids:
                for minute in range(24 * 60):
                    at = now - timedelta(minutes=minute)
                    for metric, unit in METRICS:
                        copy.write_row((at, s, metric, rng.uniform(0, 2), unit, uuid.uuid4(), at, *place[s]))
                        rows += 1
        with conn.cursor().copy(
            "COPY readings_1m (bucket, sensor_id, metric, count, min, max, mean, last, last_event_time, district,"
            " tile_id) FROM STDIN"
        ) as copy:
            for i, s in enumerate(ids):
                minutes = 30 * 24 * 60 if i < LONG_SENSORS else 24 * 60
                for minute in range(minutes):
                    at = now - timedelta(minutes=minute)
                    for metric, _ in METRICS:
                        v = rng.uniform(0, 2)
                        copy.write_row((at, s, metric, 6, v - 0.1, v + 0.1, v, v, at, *place[s]))
                        rows += 1
        with conn.cursor().copy(
            "COPY alerts (alert_id, rule, sensor_id, metric, district, tile_id, severity, state, opened_at, updated_at,"
            " resolved_at, title_es, title_en) FROM STDIN"
        ) as copy:
            for _ in range(alerts):
                s = rng.choice(ids)
                opened = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
                resolved = opened + timedelta(minutes=rng.randrange(10, 600))
                done = resolved < now and rng.random() < 0.95
                copy.write_row((
                    uuid.uuid4(), f"rule-{rng.randrange(1_000_000)}", s, "water_pressure", *place[s],
                    rng.choice(["info", "warning", "critical"]), "resolved" if done else "open", opened,
                    resolved if done else now, resolved if done else None, "Sin agua", "No water",
                ))  # fmt: skip
                rows += 1
        conn.execute("SELECT rebuild_sensor_latest()")  # what the stream keeps as it stores
        # Vacuumed now, not by autovacuum during the measurement: freshly loaded tables get one,
        # and on two cores it took the API's place for half a minute.
        conn.execute("VACUUM ANALYZE")
        print(f"  seeded {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)


async def open_loop(
    client: httpx.AsyncClient, paths: Callable[[int], str], rate: float, seconds: float
) -> tuple[list[float], int]:
    """Send request i at start + i/rate; latency in ms from that scheduled time.

    Returns (latencies indexed by request number, errors).
    """
    count = int(rate * seconds)
    latencies = [0.0] * count
    errors = 0
    start = time.perf_counter() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        response = await client.get(paths(i))
        latencies[i] = (time.perf_counter() - scheduled) * 1000
        if response.status_code != 200:
            errors += 1
            if errors == 1:
                print(f"  first error: {response.status_code} {response.text[:200]}", flush=True)

    await asyncio.gather(*(one(i) for i in range(count)))
    return latencies, errors


async def closed_loop(client: httpx.AsyncClient, paths: Callable[[int], str], clients: int, seconds: float) -> float:
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller(c: int) -> None:
        nonlocal done
        i = c
        while time.perf_counter() < deadline:
            (await client.get(paths(i))).raise_for_status()
            done += 1
            i += clients

    started = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in range(clients)))
    return done / (time.perf_counter() - started)


def report(name: str, latencies: list[float], errors: int, target: float | None = None) -> float:
    p50, p90, p99 = (percentile(latencies, q) for q in (0.5, 0.9, 0.99))
    against = f", {p99 / target:.2f} of the {target:.0f} ms target" if target else ""
    print(
        f"  {name}: {len(latencies)} requests, {errors} errors, p50 {p50:.1f} ms, p90 {p90:.1f} ms,"
        f" p99 {p99:.1f} ms{against}",
        flush=True,
    )
    if os.environ.get("VIGIA_BENCH_SLOWEST"):
        slowest = sorted(range(len(latencies)), key=lambda i: -latencies[i])[:5]
        print("    slowest (request number: ms): " + ", ".join(f"{i}: {latencies[i]:.0f}" for i in slowest))
    return p99


WRK_SCRIPT = """
ids = {%s}
n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/sensors/" .. ids[(n * 7919) %% #ids + 1] .. "/latest")
end
"""


def wrk(settings: Settings, key: str, path: str, *, ids: list[str] | None, connections: int, seconds: float) -> float:
    """Requests/s `wrk` gets from `path` (or, with `ids`, from the latest of each sensor in turn)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "-H", f"Authorization: Bearer {key}"]
    with tempfile.TemporaryDirectory() as tmp:
        if ids:
            script = Path(tmp) / "latest.lua"
            script.write_text(WRK_SCRIPT % ", ".join(f'"{i}"' for i in ids))
            command += ["-s", str(script)]
        command.append(f"http://{settings.api_host}:{settings.api_port}{path}")
        out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failed:
        raise RuntimeError(f"wrk saw {failed.group(1)} failed requests on {path}:\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{out}")
    return float(found.group(1))


def coalesced(settings: Settings) -> tuple[float, float]:
    """Latest's queries so far and the sensors they read, over every API process (from /metrics)."""
    text = httpx.get(f"http://{settings.api_host}:{settings.api_port}/metrics", timeout=10).text
    found = [
        re.search(rf'^vigia_api_coalesced_keys_{part}{{read="latest"}} (\S+)$', text, re.MULTILINE)
        for part in ("count", "sum")
    ]
    queries, sensors = (float(match.group(1)) if match else 0.0 for match in found)
    return queries, sensors


def capacity(settings: Settings, key: str, ids: list[str], args: argparse.Namespace) -> tuple[float, float]:
    print(f"(0) capacity under wrk, {args.clients} connections, {args.seconds / 2:.0f} s each", flush=True)
    livez = wrk(settings, key, "/livez", ids=None, connections=args.clients, seconds=args.seconds / 2)
    queries, sensors = coalesced(settings)
    latest = wrk(settings, key, "/sensors", ids=ids, connections=args.clients, seconds=args.seconds / 2)
    queries_after, sensors_after = coalesced(settings)
    shared = (sensors_after - sensors) / max(queries_after - queries, 1)
    print(
        f"  /livez {livez:,.0f} requests/s; latest {latest:,.0f}/s, {latest / livez:.2f} of it"
        f" ({shared:.1f} sensors a query)",
        flush=True,
    )
    if args.rate >= latest:
        print(f"  the open-loop rate {args.rate:.0f}/s is not below latest's capacity: its latencies will queue")
    return livez, latest


async def drive(settings: Settings, key: str, args: argparse.Namespace) -> str:
    ids = sensor_ids(args.sensors)
    base = f"http://{settings.api_host}:{settings.api_port}"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    start30 = (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=30
    ) as client:
        # Warm the connection pools, the database's cache and each API process's count of the
        # sensors reporting per district (the first status of a district waits for it): the
        # figures are for a running service.
        await open_loop(client, lambda i: f"/sensors/{ids[i % len(ids)]}/latest", 50, 3)
        await open_loop(client, lambda i: f"/districts/{DISTRICTS[i % len(DISTRICTS)]}", 50, 3)
        for i in range(LONG_SENSORS):
            await client.get(f"/sensors/{ids[i]}/series?metric=water_pressure&bucket=1m&start={start30}")

        def latest(i: int) -> str:
            return f"/sensors/{ids[(i * 7919) % len(ids)]}/latest"

        def status(i: int) -> str:
            return f"/districts/{DISTRICTS[i % len(DISTRICTS)]}"

        print(f"(1) latest and status, {args.rate} requests/s together for {args.seconds:.0f} s", flush=True)
        mixed, errors = await open_loop(client, lambda i: latest(i) if i % 2 else status(i), args.rate, args.seconds)
        p_latest = report("latest", mixed[1::2], errors, 50)
        p_status = report("status", mixed[0::2], errors, 50)

        print("(2) alerts list of a district, 50 requests/s", flush=True)
        alerts = await open_loop(
            client, lambda i: f"/alerts?district={DISTRICTS[i % 4]}&state=open&limit=100", 50, args.seconds / 2
        )
        p_alerts = report("alerts", *alerts, 50)

        print("(3) 30-day series of one-minute windows (43,200 points), 5 requests/s", flush=True)
        series = await open_loop(
            client,
            lambda i: f"/sensors/{ids[i % LONG_SENSORS]}/series?metric=water_pressure&bucket=1m&start={start30}",
            5, args.seconds * 1.5,
        )  # fmt: skip
        p_series = report("series30d", *series, 150)

        print(f"(4) throughput: {args.clients} callers back to back", flush=True)
        rps = await closed_loop(client, latest, args.clients, args.seconds / 2)
        peer = await closed_loop(client, lambda i: "/livez", args.clients, args.seconds / 2)
        print(f"  latest {rps:,.0f} requests/s; /livez (no database) {peer:,.0f}/s; ratio {rps / peer:.2f}", flush=True)
    return (
        f"latest_p99_ms={p_latest:.1f} alerts_p99_ms={p_alerts:.1f} series30d_p99_ms={p_series:.1f} rps={rps:.0f}"
        f" status_p99_ms={p_status:.1f} livez_rps={peer:.0f} ratio_livez={rps / peer:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sensors", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run `make install` (it comes from apt)")
    os.environ["VIGIA_API_RATE_LIMIT"] = "1000000/minute"  # the limit would measure itself, not the API
    print("starting TimescaleDB and the API on benchmark ports", flush=True)
    with bench_stack(["timescaledb", "api"]) as settings:
        seed(settings, args.sensors, args.alerts)
        with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
            _, key = keys.add(conn, role=Role.OPERATOR, district=None, name="bench")
        livez, latest = capacity(settings, key, sensor_ids(args.sensors), args)
        line = asyncio.run(drive(settings, key, args))
    print(f"{line} wrk_livez_rps={livez:.0f} wrk_latest_rps={latest:.0f} wrk_ratio={latest / livez:.2f}")


if __name__ == "__main__":
    main()
