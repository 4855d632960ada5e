"""Probes and metrics: liveness says the process serves, readiness that it can answer from the database."""

from __future__ import annotations

import os

import psycopg
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from api import repo
from api.deps import PoolDep
from api.schemas import Health

MULTIPROCESS_METRICS = "PROMETHEUS_MULTIPROC_DIR"  # where several workers' metrics meet (see `api.app.run`)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(pool: PoolDep) -> Health | JSONResponse:
    """Alive and able to reach the database."""
    try:
        async with pool.connection(timeout=2) as conn:
            await repo.ping(conn)
    except (psycopg.Error, TimeoutError, OSError):
        body = Health(status="degraded", database="unreachable")
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", database="ok")


@router.get("/livez", response_model=Health)
async def livez() -> Health:
    """The process answers. A liveness probe uses this: a database outage is no reason to restart the API."""
    return Health(status="ok", database="not checked")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(pool: PoolDep) -> Health | JSONResponse:
    """Ready for traffic: the database answers. A readiness probe uses this."""
    return await healthz(pool)


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics() -> Response:
    """Prometheus metrics of the API (every worker process's): request latency by route and status,
    rate-limited requests."""
    if MULTIPROCESS_METRICS not in os.environ:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in prometheus_client
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
