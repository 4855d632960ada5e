"""Kafka commits of offsets already durable in the database, kept off the batches' path."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Commits:
    """Kafka commits of durable offsets, off the batches' path: the newest offsets win.

    A commit is a round trip to the broker; a batch need not wait for it, since the
    database already says where each partition stands. At most one commit is in flight;
    offsets arriving meanwhile are merged and sent next.
    """

    def __init__(self, commit: Callable[[dict[Any, int]], Awaitable[bool]]) -> None:
        self._commit = commit
        self._pending: dict[Any, int] = {}
        self._running: asyncio.Future[None] | None = None

    def add(self, offsets: dict[Any, int]) -> None:
        self._pending.update(offsets)
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        while self._pending:
            offsets, self._pending = self._pending, {}
            try:
                await self._commit(offsets)
            except Exception:  # the next batch's commit carries these offsets too, or a re-read absorbs them
                log.exception("committing %s failed", offsets)
