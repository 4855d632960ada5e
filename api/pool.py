"""The API's database connections, and how they get over a database restart.

A restart (or a failover) drops every connection the pool holds, and each looks healthy
until used. The pool checks a connection as it lends it, but it backs off after each dead
one it meets (1 s, 2 s, 4 s ...), so with a pool full of them a request would time out
before reaching a live one. The first dead connection found therefore sweeps the pool:
every idle connection is checked at once and the dead ones replaced, and the request that
found it is served by a new connection about a second later, instead of failing.

The check as a connection is lent costs no round trip. A server that goes away (shutdown,
crash, failover behind a proxy) says so on the socket: a FATAL message, an end of file or a
reset. An idle connection has nothing else to read, so only one whose socket is readable
is asked, with an empty query, whether it still works. Asking every time cost a round trip
on every request.
"""

from __future__ import annotations

import asyncio
import select

import psycopg
from psycopg import pq
from psycopg_pool import AsyncConnectionPool

from vigia.settings import Settings


def has_something_to_read(conn: psycopg.AsyncConnection) -> bool:
    """Whether the server sent anything to this idle connection: a hang-up, or rarely a notice."""
    if conn.pgconn.status != pq.ConnStatus.OK:
        return True
    poll = select.poll()
    poll.register(conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poll.poll(0))


class Sweeper:
    """The pool's check: a dead connection starts one sweep of the whole pool."""

    def __init__(self) -> None:
        self.pool: AsyncConnectionPool | None = None
        self._sweep: asyncio.Task[None] | None = None

    async def check(self, conn: psycopg.AsyncConnection) -> None:
        if not has_something_to_read(conn):
            return
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
        # The planner's row estimates for a district's tiles pass the JIT threshold, and
        # compiling took 36 ms of a 150 ms query at 100,000 sensors: the API's queries are
        # short and many, where JIT does not pay.
        # In autocommit, so a borrower's single statement needs no BEGIN and COMMIT; a route
        # that writes opens a transaction (`api/deps.py`). Without a reset to run, the pool
        # takes a connection back at once instead of through a task of its own per request.
        kwargs={"options": "-c jit=off", "autocommit": True},
        open=False,
        name="vigia-api",
    )
    sweeper.pool = pool
    return pool
