"""The API's database connections, and how they get over a database restart.

A restart (or a failover) drops every connection the pool holds, and each looks healthy
until used. The pool checks a connection as it lends it, but it backs off after each dead
one it meets (1 s, 2 s, 4 s ...), so with a pool full of them a request would time out
before reaching a live one. The first dead connection found therefore sweeps the pool:
every idle connection is checked at once and the dead ones replaced, and the request that
found it is served by a new connection about a second later, instead of failing.
"""

from __future__ import annotations

import asyncio

import psycopg
from psycopg_pool import AsyncConnectionPool

from vigia.settings import Settings


class Sweeper:
    """The pool's check: a dead connection starts one sweep of the whole pool."""

    def __init__(self) -> None:
        self.pool: AsyncConnectionPool | None = None
        self._sweep: asyncio.Task[None] | None = None

    async def check(self, conn: psycopg.AsyncConnection) -> None:
        try:
            await AsyncConnectionPool.check_connection(conn)
        except psycopg.Error:
            if self.pool is not None and (self._sweep is None or self._sweep.done()):
                self._sweep = asyncio.create_task(self.pool.check())
            raise


def database_pool(settings: Settings) -> AsyncConnectionPool:
    """Unopened; the caller opens it without waiting, so the API answers /healthz while the database is away."""
    sweeper = Sweeper()
    pool = AsyncConnectionPool(
        settings.db_conninfo,
        min_size=1,
        max_size=settings.api_pool_size,
        timeout=settings.api_db_wait_seconds,
        check=sweeper.check,
        open=False,
        name="vigia-api",
    )
    sweeper.pool = pool
    return pool
