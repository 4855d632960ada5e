"""The live alert feed: one database poller shared by every connected client.

Alert changes are rows of `alert_events` (the stream worker's, and the acknowledgements and
resolutions people make through the API), so the database is the one place that has them
all, in the order they were recorded. One task polls it while anyone listens and hands each
new change to every listener's queue. Each poll re-reads a few seconds before its cursor:
a transaction that committed late can carry an earlier `recorded_at`, and the set of keys
already handed out keeps those from going out twice.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from api import repo
from vigia import tasks

log = logging.getLogger(__name__)

Change = dict[str, Any]
Key = tuple[str, str, datetime]


def key_of(change: Change) -> Key:
    return (change["alert_id"], change["change"], change["changed_at"])


def event_id(change: Change) -> str:
    """What a client sends back as Last-Event-ID: the change's place in the recorded order."""
    recorded: datetime = change["recorded_at"]
    return recorded.isoformat()


class AlertFeed:
    def __init__(
        self, pool: AsyncConnectionPool, *, interval: float = 0.5, overlap: timedelta = timedelta(seconds=3)
    ) -> None:
        self.pool = pool
        self.interval = interval
        self.overlap = overlap
        self._listeners: set[asyncio.Queue[Change | None]] = set()
        self._cursor: datetime | None = None
        self._handed_out: dict[Key, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def listen(self, maxsize: int = 1000) -> asyncio.Queue[Change | None]:
        """A queue of new changes; None in it means the listener fell too far behind and must reconnect."""
        queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="alert-feed")
        return queue

    def leave(self, queue: asyncio.Queue[Change | None]) -> None:
        self._listeners.discard(queue)

    async def close(self) -> None:
        await tasks.cancel(self._task)

    async def _run(self) -> None:
        while self._listeners:
            try:
                await self.poll()
            except (psycopg.Error, OSError, TimeoutError) as error:
                log.warning("alert feed: %s; trying again", error)
            await asyncio.sleep(self.interval)

    async def poll(self) -> list[Change]:
        """Hand every change not handed out yet to the listeners; returns them."""
        async with self.pool.connection(timeout=5) as conn:
            if self._cursor is None:
                self._cursor = await repo.now(conn) - self.overlap
            changes = await repo.alert_changes(conn, after=self._cursor - self.overlap, districts=None)
        fresh = [c for c in changes if key_of(c) not in self._handed_out]
        for change in fresh:
            self._handed_out[key_of(change)] = change["recorded_at"]
            for queue in list(self._listeners):
                if queue.full():
                    self._listeners.discard(queue)
                    queue.get_nowait()
                    queue.put_nowait(None)
                else:
                    queue.put_nowait(change)
        if changes:
            self._cursor = max(self._cursor, changes[-1]["recorded_at"])
        horizon = self._cursor - 2 * self.overlap
        self._handed_out = {k: at for k, at in self._handed_out.items() if at > horizon}
        return fresh
