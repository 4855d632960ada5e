"""The API through a database restart: 503 with Retry-After while it is away, no error once it is back.

A restart drops every connection the API's pool holds, and each looks healthy until used:
the requests after the restart must still be answered, not fail on a dead connection.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import httpx
import psycopg
import pytest
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from psycopg import pq, sql

from api.deps import ConnDep
from api.pool import database_pool, has_something_to_read
from ops import control
from ops.supervisor import Supervisor
from tests.integration.helpers import all_healthy, api_headers, eventually
from vigia.settings import Settings

pytestmark = pytest.mark.integration
CONCURRENT = 8  # enough requests at once that the pool holds several connections


@pytest.fixture
def client(stack: Settings) -> Iterator[httpx.Client]:
    base = f"http://{stack.api_host}:{stack.api_port}"
    with httpx.Client(base_url=base, headers=api_headers(stack, "operator"), timeout=30) as client:
        yield client
    eventually(lambda: all_healthy(stack), what="every component healthy again")


def burst(client: httpx.Client) -> list[int]:
    with ThreadPoolExecutor(CONCURRENT) as pool:
        return list(pool.map(lambda _: client.get("/alerts?limit=500").status_code, range(CONCURRENT)))


def database_back(stack: Settings) -> None:
    control.up(stack, ["timescaledb"], report=lambda line: None)  # starts it and waits until it answers


def test_every_request_after_a_database_restart_is_answered(stack: Settings, client: httpx.Client) -> None:
    assert burst(client) == [200] * CONCURRENT
    Supervisor(stack.state_dir).stop("timescaledb")
    database_back(stack)
    assert [client.get("/alerts").status_code for _ in range(CONCURRENT)] == [200] * CONCURRENT
    assert burst(client) == [200] * CONCURRENT


def test_while_the_database_is_away_the_api_answers_503(stack: Settings, client: httpx.Client) -> None:
    Supervisor(stack.state_dir).stop("timescaledb")
    try:
        away = client.get("/alerts")
        assert away.status_code == 503
        assert away.headers["Retry-After"].isdigit()
        assert away.json()["detail"] == "the database is unavailable; try again shortly"
        assert client.get("/livez").status_code == 200  # the process itself is fine
    finally:
        database_back(stack)
    assert client.get("/alerts").status_code == 200


def test_a_connection_whose_server_hung_up_is_told_from_its_socket_without_a_query(stack: Settings) -> None:
    async def scenario() -> tuple[bool, bool]:
        async with await psycopg.AsyncConnection.connect(stack.db_conninfo) as conn:
            await conn.execute("SELECT 1")
            await conn.rollback()
            idle = has_something_to_read(conn)
            with psycopg.connect(stack.db_conninfo, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (conn.info.backend_pid,))
            for _ in range(50):  # the FATAL message and the end of the stream are on their way
                if has_something_to_read(conn):
                    return idle, True
                await asyncio.sleep(0.1)
            return idle, False

    assert asyncio.run(scenario()) == (False, True)


def test_a_write_commits_all_or_nothing_and_a_read_leaves_no_transaction_open(stack: Settings) -> None:
    """The pool's connections are in autocommit; `get_conn` wraps a write's route in one transaction."""
    table = f"write_check_{uuid.uuid4().hex[:12]}"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.pool = database_pool(stack.model_copy(update={"api_pool_size": 1}))
        await app.state.pool.open(wait=True)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/rows/{count}")
    async def add(conn: ConnDep, count: int, fail: bool = False) -> dict[str, int]:
        for n in range(count):
            await conn.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(sql.Identifier(table)), (n,))
        if fail:
            raise HTTPException(409, "refused after writing")
        return {"added": count}

    @app.get("/rows")
    async def rows(conn: ConnDep) -> dict[str, object]:
        cur = await conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        found = await cur.fetchone()
        return {"rows": found[0] if found else None, "open": conn.info.transaction_status != pq.TransactionStatus.IDLE}

    with psycopg.connect(stack.db_conninfo, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE TABLE {} (n int)").format(sql.Identifier(table)))
        try:
            with TestClient(app) as client:
                assert client.post("/rows/3").json() == {"added": 3}
                assert client.post("/rows/2?fail=true").status_code == 409  # neither of its two rows stays
                assert client.get("/rows").json() == {"rows": 3, "open": False}
        finally:
            admin.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
