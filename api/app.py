"""The HTTP API, built by `create_app(settings)`; nothing happens at import time."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import repo
from api.coalesce import Coalescer
from api.guards import Guards
from api.key_cache import KeyCache, KeyListener
from api.live import AlertFeed
from api.pool import database_pool
from api.reporting import Reporting
from api.routes import (
    alerts,
    assess,
    calibrations,
    chats,
    coverage,
    deliveries,
    health,
    imagery,
    labels,
    map_tiles,
    me,
    page,
    places,
    plausibility,
    sensors,
    service_continuity,
    sms,
    subscriptions,
)
from api.routes.health import MULTIPROCESS_METRICS
from api.schemas import Problem
from api.tile_jobs import TileJobQueue
from vigia import logs
from vigia.accounts import load_accounts
from vigia.settings import Settings, load_settings

log = logging.getLogger(__name__)

DESCRIPTION = """Live status of water, power and housing in Peru's informal settlements.

Every call but `/healthz`, `/readyz` and `/metrics` needs an API key: `Authorization: Bearer vg_...`
(made with `vigia keys add`). A community leader's key sees their own district only;
another district's data answers 404, as if it did not exist.
"""

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no API key, or not a valid one"},
    403: {"model": Problem, "description": "the key's role may not do this"},
    422: {"model": Problem, "description": "a parameter is not valid; the detail names it"},
    429: {"model": Problem, "description": "too many requests; see Retry-After"},
    503: {"model": Problem, "description": "the database is unavailable; try again after Retry-After"},
}
DATABASE_AWAY_RETRY_SECONDS = 5


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = database_pool(settings)
        # Open without waiting: the API must answer /healthz (503) even while the database is away.
        await pool.open(wait=False)
        app.state.pool = pool

        async def read_latest(sensor_ids: Sequence[str]) -> dict[str, repo.Latest]:
            async with pool.connection() as conn:
                return await repo.latest_of(conn, sensor_ids)

        app.state.latest = Coalescer("latest", read_latest)
        app.state.key_listener = KeyListener(settings.db_conninfo, KeyCache(settings.api_key_cache_seconds))
        app.state.key_listener.start()
        app.state.tile_jobs = TileJobQueue(settings)
        app.state.alert_feed = AlertFeed(pool)
        app.state.reporting = Reporting(pool)
        app.state.inference = httpx.AsyncClient(timeout=assess.TIMEOUT)  # on-demand assessments
        try:
            yield
        finally:
            await app.state.key_listener.close()
            await app.state.alert_feed.close()
            await app.state.reporting.close()
            await app.state.tile_jobs.close()
            await app.state.inference.aclose()
            await app.state.latest.close()
            await pool.close()

    app = FastAPI(
        title="Vigía",
        description=DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.accounts = load_accounts(settings)
    # A request is matched against each router in turn, so the ones dashboards and the page
    # call most come first; no two routers share a path.
    app.include_router(health.router)
    routers = (
        sensors, places, alerts, map_tiles, calibrations, service_continuity, coverage, plausibility, me, subscriptions,
        deliveries, imagery, labels, assess,
    )  # fmt: skip
    for router in (module.router for module in routers):
        app.include_router(router, responses=ERRORS)
    app.include_router(page.router)
    app.include_router(sms.router)
    app.include_router(chats.router)

    app.add_middleware(Guards, rule=settings.api_rate_limit)
    origins = [origin.strip() for origin in settings.api_cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(status_code=422, content={"detail": f"{where}: {first.get('msg', 'invalid request')}"})

    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(PoolTimeout)
    async def database_away(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            status_code=503,
            content={"detail": "the database is unavailable; try again shortly"},
            headers={"Retry-After": str(DATABASE_AWAY_RETRY_SECONDS)},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never leak internals; the log has the traceback.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    return app


CALLBACKS = ("/sms/", "/whatsapp/", "/telegram/")


class HideQueries(logging.Filter):
    """The access log keeps the path of a gateway's callback, not its query: that holds the
    callback token, and a receipt's query a phone network's words."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and str(args[2]).startswith(CALLBACKS):
            record.args = (args[0], args[1], str(args[2]).split("?", 1)[0], args[3], args[4])
        return True


def served() -> FastAPI:
    """What each worker process serves when there are several (uvicorn imports it by name)."""
    logs.setup("api")
    logging.getLogger("uvicorn.access").addFilter(HideQueries())
    return create_app(load_settings())


def run(settings: Settings) -> None:
    """Serve; with more than one worker, each is a process of its own on the one port.

    The API's Python is what limits it on a small machine, so a second process on a second
    core answers more (`make bench-api`). Each worker keeps its own rate limit and database
    pool; their request metrics are gathered through Prometheus's multiprocess files.
    """
    logs.setup("api")
    logging.getLogger("uvicorn.access").addFilter(HideQueries())
    workers = settings.api_workers or len(os.sched_getaffinity(0))  # the cores this process may use
    # httptools parses HTTP in C and uvloop runs the event loop in C: with uvicorn's pure-Python
    # defaults, parsing and scheduling cost more than a cached query.
    common: dict[str, Any] = {
        "host": settings.api_host, "port": settings.api_port, "log_level": "info", "log_config": None,
        "loop": "uvloop", "http": "httptools", "access_log": settings.api_access_log,
    }  # fmt: skip
    if workers == 1:
        uvicorn.run(create_app(settings), **common)
        return
    shared = settings.state_dir / "api-metrics"
    shutil.rmtree(shared, ignore_errors=True)  # counts of a previous run's workers
    shared.mkdir(parents=True)
    os.environ[MULTIPROCESS_METRICS] = str(shared)
    log.info("serving with %d worker processes", workers)
    uvicorn.run("api.app:served", factory=True, workers=workers, **common)
