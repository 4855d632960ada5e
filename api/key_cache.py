"""The keys an API process has checked, kept so that a request costs one query instead of two.

Checking a key is a round trip to the database on every request, as long as the query the
route itself makes: under load it was a third of what a sensor's latest readings cost. Each
API process therefore keeps the principals of the keys it checked, for `ttl` seconds at
most and never past a key's expiry.

A revoked key must stop working at once, not after the ttl. The database tells every API
process of each change to a key (a trigger on `api_keys` notifies `vigia_api_keys` with the
key id), and a listener drops that key's entries as it hears of it. The cache answers only
while the listener is connected and has nothing unread on its socket: a notice that has
arrived but not yet been handled sends the request to the database, which is authoritative.
A lost listener connection empties the cache, and it stays unused until the listener is
back. A check that was under way when a notice came is not kept (see `generation`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from api.access import Principal
from api.pool import has_something_to_read
from vigia import tasks

log = logging.getLogger(__name__)

CHANNEL = "vigia_api_keys"


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    until: float


def _digest(credential: str) -> bytes:
    """Entries are found by a hash of the presented key: the process keeps no key in the clear."""
    return hashlib.sha256(credential.encode()).digest()


class KeyCache:
    """Principals by presented key; pure, so its rules are tested without a database."""

    def __init__(self, ttl: float, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        # Bumped by every change heard: a check that read the database before a change and
        # finishes after it must not put what it read back.
        self.generation = 0
        self._entries: dict[bytes, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, credential: str) -> Principal | None:
        digest = _digest(credential)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry.until <= self.clock():
            del self._entries[digest]
            return None
        return entry.principal

    def put(self, credential: str, principal: Principal, *, expires_in: float | None, generation: int) -> None:
        """Keep a principal the database just vouched for, unless a change was heard since it was read."""
        if self.ttl <= 0 or generation != self.generation:
            return
        lifetime = self.ttl if expires_in is None else min(self.ttl, expires_in)
        if lifetime <= 0:
            return
        if len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest: dicts keep insertion order
        self._entries[_digest(credential)] = _Entry(principal, self.clock() + lifetime)

    def forget(self, key_id: str) -> None:
        """A key changed: drop every entry of it (a key may have been presented in more than one spelling)."""
        self.generation += 1
        for digest in [d for d, entry in self._entries.items() if entry.principal.key_id == key_id]:
            del self._entries[digest]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


class KeyListener:
    """Keeps a `KeyCache` true to the database by listening for key changes on a connection of its own."""

    def __init__(self, conninfo: str, cache: KeyCache, *, retry_seconds: float = 1.0) -> None:
        self.conninfo = conninfo
        self.cache = cache
        self.retry_seconds = retry_seconds
        self._conn: psycopg.AsyncConnection | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.cache.ttl > 0:
            self._task = asyncio.create_task(self._run(), name="api-key-listener")

    async def close(self) -> None:
        await tasks.cancel(self._task)

    def hears_all(self) -> bool:
        """Connected, and every notice that reached this process has been handled."""
        conn = self._conn
        return conn is not None and not has_something_to_read(conn)

    def lookup(self, credential: str) -> Principal | None:
        return self.cache.get(credential) if self.hears_all() else None

    async def _run(self) -> None:
        delay = self.retry_seconds
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.cache.clear()  # anything kept before may have changed unheard
                    self._conn = conn
                    delay = self.retry_seconds
                    async for notice in conn.notifies():
                        self.cache.forget(notice.payload)
            except (psycopg.Error, OSError) as error:
                if self._conn is not None:
                    log.warning("API key listener lost its connection (%s); keys are checked in the database", error)
            finally:
                self._conn = None
                self.cache.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
