"""Writes follow one another in order, and what arrives during a write goes out in the next one."""

from __future__ import annotations

import asyncio

import pytest

from stream.group_write import GroupWriter


class Database:
    """Records each write; a write lasts until the test lets it finish."""

    def __init__(self) -> None:
        self.writes: list[list[int]] = []
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def write(self, items: list[int]) -> None:
        self.writes.append(items)
        self.started.set()
        await self.release.wait()
        self.release.clear()


async def let_one_finish(db: Database) -> None:
    db.started.clear()
    db.release.set()
    await asyncio.sleep(0)


def test_a_live_stream_is_written_as_it_comes_and_a_backlog_in_one_write() -> None:
    async def scenario() -> list[list[int]]:
        db = Database()
        writer = GroupWriter(db.write, max_items=100)
        await writer.put([1, 2])
        await db.started.wait()  # written at once: nothing else was being written
        for taken in ([3], [4, 5], [6]):  # taken while the first write runs
            await writer.put(taken)
        await let_one_finish(db)
        await db.started.wait()
        await let_one_finish(db)
        await writer.drain()
        return db.writes

    assert asyncio.run(scenario()) == [[1, 2], [3, 4, 5, 6]]


def test_a_write_carries_at_most_max_items_and_put_waits_for_room() -> None:
    async def scenario() -> tuple[list[list[int]], bool]:
        db = Database()
        writer = GroupWriter(db.write, max_items=3)
        await writer.put([0])
        await db.started.wait()
        await writer.put([1, 2, 3, 4])  # over the limit waiting
        blocked = asyncio.ensure_future(writer.put([5]))
        await asyncio.sleep(0.01)
        was_blocked = not blocked.done()
        for _ in range(3):
            await let_one_finish(db)
            await asyncio.sleep(0.01)
        await blocked
        await let_one_finish(db)
        await writer.drain()
        return db.writes, was_blocked

    writes, was_blocked = asyncio.run(scenario())
    assert writes == [[0], [1, 2, 3], [4, 5]]
    assert was_blocked


def test_a_failed_write_fails_the_taker_instead_of_leaving_it_waiting() -> None:
    async def broken(items: list[int]) -> None:
        raise RuntimeError("disk full")

    async def scenario() -> None:
        writer = GroupWriter(broken, max_items=10)
        await writer.put([1])
        await asyncio.sleep(0)
        await writer.drain()

    with pytest.raises(RuntimeError, match="disk full"):
        asyncio.run(scenario())


def test_a_write_failing_while_the_taker_waits_for_room_fails_the_taker() -> None:
    async def scenario() -> None:
        started, fail = asyncio.Event(), asyncio.Event()

        async def failing(items: list[int]) -> None:
            started.set()
            await fail.wait()
            raise RuntimeError("database gone")

        writer = GroupWriter(failing, max_items=1)
        await writer.put([1])
        await started.wait()
        await writer.put([2])  # waiting: the writer is full
        blocked = asyncio.ensure_future(writer.put([3]))
        await asyncio.sleep(0.01)
        fail.set()
        await asyncio.wait_for(blocked, timeout=2)

    with pytest.raises(RuntimeError, match="database gone"):
        asyncio.run(scenario())
