"""Requests that arrive together share one read; each still gets its own answer, or its batch's error."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import pytest

from api.coalesce import Coalescer


class Store:
    """A read that records each batch it was asked for and can be held until released."""

    def __init__(self, rows: Mapping[str, int]) -> None:
        self.rows = dict(rows)
        self.batches: list[list[str]] = []
        self.hold: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def fetch(self, keys: Sequence[str]) -> dict[str, int]:
        self.batches.append(list(keys))
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return {key: self.rows[key] for key in keys if key in self.rows}


def test_keys_asked_in_one_turn_are_read_once_together_and_each_gets_its_own() -> None:
    async def test() -> None:
        store = Store({"a": 1, "b": 2, "c": 3})
        reads = Coalescer("t", store.fetch)
        got = await asyncio.gather(*(reads.get(key) for key in ["a", "b", "a", "zz", "c"]))
        assert got == [1, 2, 1, None, 3]
        assert store.batches == [["a", "b", "zz", "c"]]

    asyncio.run(test())


def test_a_key_asked_alone_is_read_without_waiting_for_company() -> None:
    async def test() -> None:
        store = Store({"a": 1, "b": 2})
        reads = Coalescer("t", store.fetch)
        assert await reads.get("a") == 1
        assert await reads.get("b") == 2
        assert store.batches == [["a"], ["b"]]

    asyncio.run(test())


def test_batches_are_cut_at_their_largest() -> None:
    async def test() -> None:
        store = Store({str(i): i for i in range(5)})
        reads = Coalescer("t", store.fetch, max_batch=2)
        assert await asyncio.gather(*(reads.get(str(i)) for i in range(5))) == [0, 1, 2, 3, 4]
        assert store.batches == [["0", "1"], ["2", "3"], ["4"]]

    asyncio.run(test())


def test_a_batch_being_read_does_not_hold_up_the_next() -> None:
    async def test() -> None:
        slow = Store({"a": 1})
        slow.hold = asyncio.Event()
        fast = Store({"b": 2})

        async def fetch(keys: Sequence[str]) -> dict[str, int]:
            return await (slow if keys == ["a"] else fast).fetch(keys)

        reads = Coalescer("t", fetch)
        first = asyncio.create_task(reads.get("a"))
        await asyncio.sleep(0.01)
        assert await asyncio.wait_for(reads.get("b"), 1) == 2
        assert not first.done()
        slow.hold.set()
        assert await first == 1

    asyncio.run(test())


def test_a_failed_read_raises_in_every_request_of_its_batch_and_the_next_batch_reads_again() -> None:
    async def test() -> None:
        store = Store({"a": 1, "b": 2})
        store.fail = ConnectionError("database away")
        reads = Coalescer("t", store.fetch)
        got = await asyncio.gather(reads.get("a"), reads.get("b"), reads.get("a"), return_exceptions=True)
        assert [type(error) for error in got] == [ConnectionError] * 3
        store.fail = None
        assert await reads.get("b") == 2

    asyncio.run(test())


def test_a_request_that_goes_away_leaves_its_batch_to_the_others() -> None:
    async def test() -> None:
        store = Store({"a": 1, "b": 2})
        store.hold = asyncio.Event()
        reads = Coalescer("t", store.fetch)
        leaving = asyncio.create_task(reads.get("a"))
        staying = asyncio.create_task(reads.get("a"))
        other = asyncio.create_task(reads.get("b"))
        await asyncio.sleep(0.01)
        leaving.cancel()
        store.hold.set()
        assert await asyncio.wait_for(staying, 1) == 1
        assert await asyncio.wait_for(other, 1) == 2
        with pytest.raises(asyncio.CancelledError):
            await leaving

    asyncio.run(test())


def test_closing_waits_for_the_reads_under_way() -> None:
    async def test() -> None:
        store = Store({"a": 1})
        store.hold = asyncio.Event()
        reads = Coalescer("t", store.fetch)
        waiting = asyncio.create_task(reads.get("a"))
        await asyncio.sleep(0.01)
        closing = asyncio.create_task(reads.close())
        await asyncio.sleep(0.01)
        assert not closing.done()
        store.hold.set()
        await closing
        assert await waiting == 1

    asyncio.run(test())


def test_a_batch_of_nothing_is_refused() -> None:
    async def fetch(keys: Sequence[str]) -> dict[str, int]:
        return {}

    with pytest.raises(ValueError, match="max_batch"):
        Coalescer("t", fetch, max_batch=0)
