"""A route's connection commits before its answer leaves, so a client that is told 201 can read what it wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import ConnDep


class Connection:
    """What `get_conn` asks of a psycopg connection in autocommit: a transaction that commits as it ends."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        yield
        self.log.append("committed")


class Pool:
    """What `get_conn` asks of psycopg's pool: a connection, returned as its context ends."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        yield Connection(self.log)
        self.log.append("returned")


def test_the_connection_commits_before_the_response_is_sent() -> None:
    log: list[str] = []
    app = FastAPI()
    app.state.pool = Pool(log)

    @app.post("/things", status_code=201)
    async def create(conn: ConnDep) -> dict[str, str]:
        log.append("route")
        return {}

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                log.append("sent")
            await send(message)

        await app(scope, receive, sending)

    assert TestClient(recorder).post("/things").status_code == 201  # type: ignore[arg-type]
    assert log == ["route", "committed", "returned", "sent"]
