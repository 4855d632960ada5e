"""Point reads asked for at the same moment, answered by one query.

A dashboard's most frequent read is one sensor's newest row. Under load, requests for many
sensors reach each API process together, and each paid on its own for a pool checkout, a
round trip, and PostgreSQL's work per statement, all for a one-row primary-key read: far
more than the read itself. A `Coalescer` gathers the keys asked for during one turn of the
event loop and reads them with one statement (`= ANY(keys)`), the way GraphQL's DataLoader
does. Nothing is cached: every answer is read after its request arrived, and a request
that arrives alone is sent at the end of the same turn, without waiting.

Batches do not wait for each other: while one is being read, the next turn's keys form the
next batch on another pooled connection.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

from prometheus_client import Histogram

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

Fetch = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]

BATCH_KEYS = Histogram(
    "vigia_api_coalesced_keys",
    "Keys read by one query of requests that arrived together",
    ["read"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)


class Coalescer(Generic[K, V]):
    """`get(key)` answers what `fetch` found for the key (None if nothing), sharing the call.

    A key asked for twice in one batch is read once. A failed read raises its error in every
    request of the batch; a request cancelled while it waits (its client went away) leaves
    the batch to finish for the others.
    """

    def __init__(self, name: str, fetch: Fetch[K, V], *, max_batch: int = 256) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self._batch_keys = BATCH_KEYS.labels(name)
        self._fetch = fetch
        self._max_batch = max_batch
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._scheduled = False
        self._reads: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> V | None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V | None] = loop.create_future()
        self._waiting.setdefault(key, []).append(future)
        if len(self._waiting) >= self._max_batch:
            self._send()
        elif not self._scheduled:
            self._scheduled = True
            # A context of its own: the batch is no single request's, so its log lines carry no request id.
            loop.call_soon(self._send, context=contextvars.Context())
        return await future

    def _send(self) -> None:
        self._scheduled = False
        if not self._waiting:
            return
        batch, self._waiting = self._waiting, {}
        self._batch_keys.observe(len(batch))
        read = asyncio.get_running_loop().create_task(self._answer(batch), context=contextvars.Context())
        self._reads.add(read)
        read.add_done_callback(self._reads.discard)

    async def _answer(self, batch: dict[K, list[asyncio.Future[V | None]]]) -> None:
        try:
            found = await self._fetch(list(batch))
        except asyncio.CancelledError:
            for futures in batch.values():
                for future in futures:
                    future.cancel()
            raise
        except Exception as error:  # noqa: BLE001  # every waiter raises it as its own
            for futures in batch.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(error)
            return
        for key, futures in batch.items():
            value = found.get(key)
            for future in futures:
                if not future.done():
                    future.set_result(value)

    async def close(self) -> None:
        """Wait for the reads under way, so none outlives the pool it borrows from."""
        if self._reads:
            await asyncio.gather(*self._reads, return_exceptions=True)
