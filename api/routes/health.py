from __future__ import annotations

import psycopg
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from vigia.api import repo
from vigia.api.deps import PoolDep
from vigia.api.schemas import Health

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
