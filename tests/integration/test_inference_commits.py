"""The inference worker commits a batch's offsets only for partitions it still owns.

The worker assesses the next batch while the last one is written, so a rebalance can land
between a batch's fetch and its commit. Against a real Kafka: what the group moved to
another member is left to it, and what this worker still owns is committed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from inference.worker import FinishFirst, TileWorker, commit_owned
from ops.kafka_admin import ensure_topics
from vigia.settings import Settings
from vigia.topics import TopicSpec

pytestmark = pytest.mark.integration


def consumer(settings: Settings, group: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", heartbeat_interval_ms=500,
    )  # fmt: skip


async def until(condition: Callable[[], bool], *consumers: AIOKafkaConsumer) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if condition():
            return
        for each in consumers:
            await each.getmany(timeout_ms=100)
    raise TimeoutError("the group did not settle")


def settled(first: AIOKafkaConsumer, second: AIOKafkaConsumer, everything: set[TopicPartition]) -> bool:
    """Both members hold their new share: each sees it only once its own rebalance is done."""
    mine, theirs = first.assignment(), second.assignment()
    return bool(mine) and bool(theirs) and mine.isdisjoint(theirs) and mine | theirs == everything


async def committed(member: AIOKafkaConsumer, partitions: set[TopicPartition]) -> dict[int, int | None]:
    return {tp.partition: await member.committed(tp) for tp in sorted(partitions)}


def test_offsets_of_partitions_moved_away_are_left_to_their_new_owner(stack: Settings) -> None:
    async def scenario() -> None:
        topic, group = f"it-commits-{uuid.uuid4().hex[:8]}", f"it-commits-{uuid.uuid4().hex[:8]}"
        await ensure_topics(stack, (TopicSpec(topic),))
        first = consumer(stack, group)
        first.subscribe([topic])
        await first.start()
        second = consumer(stack, group)
        try:
            await until(lambda: len(first.assignment()) == stack.kafka_partitions, first)
            everything = set(first.assignment())
            elsewhere = TopicPartition(f"{topic}-not-ours", 0)
            await commit_owned(first, {**{tp: 1 for tp in everything}, elsewhere: 9})
            assert await committed(first, everything) == {tp.partition: 1 for tp in everything}

            second.subscribe([topic])
            await second.start()
            await until(lambda: settled(first, second, everything), first, second)
            kept, moved = set(first.assignment()), set(second.assignment())
            await commit_owned(first, {tp: 2 for tp in everything})  # a batch fetched before the rebalance
            assert await committed(first, kept) == {tp.partition: 2 for tp in kept}
            assert await committed(first, moved) == {tp.partition: 1 for tp in moved}
        finally:
            await second.stop()
            await first.stop()

    asyncio.run(scenario())


def test_a_rebalance_waits_for_the_batch_in_hand_to_commit(stack: Settings) -> None:
    """The batch being written when another worker joins is committed whole, before any of
    its partitions move: nothing it did is assessed again."""

    async def scenario() -> None:
        topic, group = f"it-revoke-{uuid.uuid4().hex[:8]}", f"it-revoke-{uuid.uuid4().hex[:8]}"
        await ensure_topics(stack, (TopicSpec(topic),))
        worker = TileWorker(stack)
        first = consumer(stack, group)
        first.subscribe([topic], listener=FinishFirst(worker))
        await first.start()
        second = consumer(stack, group)
        try:
            await until(lambda: len(first.assignment()) == stack.kafka_partitions, first)
            everything = set(first.assignment())

            async def slow_batch() -> None:  # a batch still being written as the group changes
                await asyncio.sleep(3)
                await commit_owned(first, {tp: 5 for tp in everything})

            worker.pending = asyncio.create_task(slow_batch())
            second.subscribe([topic])
            await second.start()
            await until(lambda: settled(first, second, everything), first, second)
            assert worker.pending.done()
            assert await committed(second, everything) == {tp.partition: 5 for tp in everything}
        finally:
            await second.stop()
            await first.stop()

    asyncio.run(scenario())
