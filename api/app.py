"""The HTTP API, built by `create_app(settings)`; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import AsyncConnectionPool

from vigia.api.routes import health, imagery, sensors
from vigia.api.tile_jobs import TileJobQueue
from vigia.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = AsyncConnectionPool(
            settings.db_conninfo,
            min_size=1,
            max_size=10,
            open=False,
            name="vigia-api",
        )
        # Open without waiting: the API must answer /healthz (503) even while the database is away.
        await pool.open(wait=False)
        app.state.pool = pool
        app.state.tile_jobs = TileJobQueue(settings)
        try:
            yield
        finally:
            await app.state.tile_jobs.close()
            await pool.close()

    app = FastAPI(
        title="Vigía",
        summary="Live status of water, power and housing in Peru's informal settlements.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(sensors.router)
    app.include_router(imagery.router)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return JSONResponse(status_code=422, content={"detail": f"{where}: {first.get('msg', 'invalid request')}"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Never leak internals; the log has the traceback.
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    return app


def run(settings: Settings) -> None:
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")
