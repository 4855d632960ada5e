"""How many of each district's sensors were heard from in the last 15 minutes, kept per process.

Counting them reads every one-minute window of the district's last quarter hour: 150,000
rows with 10,000 sensors, 1.5 million with 100,000, which made district status the first
thing to slow as a district grows (`make bench-scale`). A count over fifteen minutes moves
slowly by nature, so each API process keeps it per district and, once it is older than
`REFRESH_SECONDS`, counts again in the background while requests get the last count: only
the first request for a district waits for it. Alerts and the rest of the status are read
live on every request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api import repo
from vigia import tasks

log = logging.getLogger(__name__)
REFRESH_SECONDS = 30.0


class Reporting:
    def __init__(
        self, pool: AsyncConnectionPool, *, refresh_seconds: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.pool, self.refresh_seconds, self.clock = pool, refresh_seconds, clock
        self._counts: dict[str, tuple[float, int]] = {}
        self._refreshing: set[asyncio.Task[None]] = set()
        self._stale: set[str] = set()  # districts being counted again

    async def counts(self, conn: AsyncConnection, districts: Sequence[str]) -> dict[str, int]:
        """The count of each district: counted now, on the request's connection, if never counted."""
        missing = [d for d in districts if d not in self._counts]
        if missing:
            self._keep(await repo.sensors_reporting(conn, districts=missing))
        now = self.clock()
        stale = [d for d in districts if now - self._counts[d][0] > self.refresh_seconds and d not in self._stale]
        if stale:
            self._stale.update(stale)
            task = asyncio.create_task(self._count_again(stale))
            self._refreshing.add(task)
            task.add_done_callback(self._refreshing.discard)
        return {d: self._counts[d][1] for d in districts}

    def _keep(self, found: dict[str, int]) -> None:
        now = self.clock()
        for district, count in found.items():
            self._counts[district] = (now, count)

    async def _count_again(self, districts: list[str]) -> None:
        try:
            async with self.pool.connection() as conn:
                self._keep(await repo.sensors_reporting(conn, districts=districts))
        except (psycopg.Error, PoolTimeout) as error:  # the last count stands; the next request tries again
            log.warning("could not count the sensors reporting in %s: %s", ", ".join(districts), error)
        finally:
            self._stale.difference_update(districts)

    async def close(self) -> None:
        for task in list(self._refreshing):
            await tasks.cancel(task)
