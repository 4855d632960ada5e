"""The API's CPU per request, in-process: what each request costs the API's own Python.

`wrk` measures the whole machine: the server, the client and PostgreSQL share the two
cores, and requests/s move by a fifth from one minute to the next. This calls the ASGI
application itself (its middleware, routing, dependencies, a real connection pool on a
seeded TimescaleDB) and divides the process's CPU time by the requests, which drifts far
less; it is how the changes to the request path were chosen. Several rounds, the median.

    python -m bench.api_cpu [--requests 2000] [--concurrency 16] [--rounds 5]

Last line: livez_cpu_us=… latest_cpu_us=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg
import uvloop
from fastapi import FastAPI
from starlette.types import Message

from api import keys
from api.access import Role
from api.app import create_app
from bench.api import seed, sensor_ids
from bench.common import bench_stack
from vigia.settings import Settings


def request_scope(path: str, key: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {key}".encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }  # fmt: skip


async def call(app: FastAPI, path: str, key: str) -> None:
    status: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(request_scope(path, key), receive, send)
    if status != [200]:
        raise RuntimeError(f"{path} answered {status}")


async def cpu_per_request(
    app: FastAPI, paths: Callable[[int], str], key: str, requests: int, concurrency: int
) -> float:
    """Microseconds of this process's CPU per request, `concurrency` callers at once."""

    async def caller(first: int) -> None:
        for i in range(first, requests, concurrency):
            await call(app, paths(i), key)

    started = time.process_time()
    await asyncio.gather(*(caller(c) for c in range(concurrency)))
    return (time.process_time() - started) / requests * 1e6


async def measure(settings: Settings, key: str, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    app = create_app(settings)
    ids = sensor_ids(args.sensors)

    def latest(i: int) -> str:
        return f"/sensors/{ids[(i * 7919) % len(ids)]}/latest"

    livez: list[float] = []
    latests: list[float] = []
    async with app.router.lifespan_context(app):
        await cpu_per_request(app, latest, key, 500, args.concurrency)  # warm the pool and the key cache
        for round_ in range(1, args.rounds + 1):
            livez.append(await cpu_per_request(app, lambda i: "/livez", key, args.requests, args.concurrency))
            latests.append(await cpu_per_request(app, latest, key, args.requests, args.concurrency))
            print(
                f"  round {round_}: /livez {livez[-1]:.0f} µs, latest {latests[-1]:.0f} µs of CPU a request", flush=True
            )
    return livez, latests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sensors", type=int, default=200)
    args = parser.parse_args()
    os.environ["VIGIA_API_RATE_LIMIT"] = "1000000/minute"  # the limit would measure itself, not the API
    os.environ["VIGIA_API_ACCESS_LOG"] = "false"  # the log's writes are the server's, not measured here
    print("starting TimescaleDB on benchmark ports", flush=True)
    with bench_stack(["timescaledb"]) as settings:
        seed(settings, args.sensors, 1000)
        with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
            _, key = keys.add(conn, role=Role.OPERATOR, district=None, name="bench")
        print(f"{args.rounds} rounds of {args.requests} requests each, {args.concurrency} at a time", flush=True)
        livez, latest = uvloop.run(measure(settings, key, args))
    print(f"livez_cpu_us={statistics.median(livez):.0f} latest_cpu_us={statistics.median(latest):.0f}")


if __name__ == "__main__":
    main()
