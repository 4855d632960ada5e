"""Commits of durable offsets: one in flight, the newest offsets merged, a failure not fatal."""

from __future__ import annotations

import asyncio

from stream.commits import Commits


def test_offsets_added_while_a_commit_is_in_flight_are_merged_into_the_next() -> None:
    sent: list[dict[str, int]] = []
    gate = asyncio.Event()

    async def commit(offsets: dict[str, int]) -> bool:
        sent.append(offsets)
        await gate.wait()
        return True

    async def scenario() -> None:
        commits = Commits(commit)
        commits.add({"p0": 10})
        await asyncio.sleep(0)  # the first commit is now waiting on the broker
        commits.add({"p0": 20, "p1": 5})
        commits.add({"p0": 30})
        gate.set()
        for _ in range(5):
            await asyncio.sleep(0)

    asyncio.run(scenario())
    assert sent == [{"p0": 10}, {"p0": 30, "p1": 5}]


def test_a_failed_commit_is_logged_and_later_offsets_still_go_out() -> None:
    sent: list[dict[str, int]] = []

    async def commit(offsets: dict[str, int]) -> bool:
        if not sent:
            sent.append({})
            raise ConnectionError("broker away")
        sent.append(offsets)
        return True

    async def scenario() -> None:
        commits = Commits(commit)
        commits.add({"p0": 10})
        await asyncio.sleep(0.01)
        commits.add({"p0": 20})
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert sent == [{}, {"p0": 20}]
