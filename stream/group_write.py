"""Batches written one after another, with whatever arrived during a write going out together in the next.

A fixed wait to fill a batch trades latency for throughput: at 2,000 readings a second a
reading waited up to the whole wait (0.2 s) before its batch was even started, and a
short wait made small batches that cost a third of the throughput under a backlog, each
paying a transaction of its own. Group writing needs no such choice. Batches are taken
from Faust after a short wait and handed here; the writer starts on what is waiting as
soon as it is free. A live stream is written as it comes; under a backlog the takes
pile up while a write runs and the next write carries all of them, up to `max_items`.

Order is kept: items are written in the order they were put, each write after the last
has finished. `put` waits while `max_items` are already waiting, so a slow database holds
back the taking instead of filling memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from vigia import tasks

T = TypeVar("T")


class GroupWriter(Generic[T]):
    def __init__(self, write: Callable[[list[T]], Awaitable[None]], *, max_items: int) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.write = write
        self.max_items = max_items
        self._waiting: list[T] = []
        self._work = asyncio.Event()
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    async def put(self, items: list[T]) -> None:
        """Queue items for the next write; waits while a full write's worth is already waiting."""
        while len(self._waiting) >= self.max_items:
            self._room.clear()
            await self._until(self._room)
        self._check()
        if not items:
            return
        self._waiting.extend(items)
        self._idle.clear()
        self._work.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="group-writer")

    async def drain(self) -> None:
        """Wait until everything put has been written."""
        while not self._idle.is_set():
            await self._until(self._idle)
        self._check()

    async def close(self) -> None:
        """Stop, dropping what has not been written (it was never made durable, so it is read again)."""
        await tasks.cancel(self._task)

    async def _until(self, event: asyncio.Event) -> None:
        """Wait for `event`, or for the writer to fail: a failed writer would never set it."""
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.wait({waiter, *([self._task] if self._task else [])}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        self._check()

    def _check(self) -> None:
        """A writer that failed fails the caller, rather than leaving it waiting."""
        if self._task is not None and self._task.done() and not self._task.cancelled():
            error = self._task.exception()
            if error is not None:
                raise error

    async def _run(self) -> None:
        while True:
            await self._work.wait()
            batch, self._waiting = self._waiting[: self.max_items], self._waiting[self.max_items :]
            if not self._waiting:
                self._work.clear()
            self._room.set()
            await self.write(batch)
            if not self._waiting:
                self._idle.set()
