"""Where this worker stands on each readings partition: what it may take, where it resumes, how far behind it is.

The database, not Kafka, says where a partition stands (see `faust_tuning.py`). This
module holds the worker's side of that bargain around Faust's consumer:

- on a new assignment, move Kafka's commit and the consumer's position to the offsets the
  database recorded, before Faust resumes fetching;
- admit each batch's records strictly in offset order, and read a partition again from
  the offset owed when records arrive after a gap;
- commit to Kafka only offsets already durable;
- measure the lag that matters (records past what the database holds), and say when
  readings wait while none reaches the agent: the sign of a consumer that stopped
  delivering, which only a restart mends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import faust
from aiokafka.errors import KafkaError

from stream.commits import Commits
from stream.faust_tuning import as_tps, commit_durable, own_commits, resume_where_durable, stalled
from stream.offset_order import OffsetOrder

log = logging.getLogger(__name__)

StoredOffsets = Callable[[], Awaitable[dict[int, int] | None]]


class ReadingPartitions:
    def __init__(self, app: faust.App, topic: str, stored_offsets: StoredOffsets, *, stall_seconds: float) -> None:
        self.app = app
        self.topic = topic
        self.stored_offsets = stored_offsets
        self.stall_seconds = stall_seconds
        self._order = OffsetOrder()
        self._commits = Commits(lambda offsets: commit_durable(app.consumer, offsets))
        self._guarded: list[object] = []
        self._busy = False
        self._last_batch = time.monotonic()

    async def assigned(self) -> None:
        """A rebalance completed: the new assignment is still paused, Faust has not sought yet."""
        consumer = self.app.consumer
        if consumer not in self._guarded:
            own_commits(consumer, {self.topic})
            self._guarded.append(consumer)
        await resume_where_durable(consumer, self.topic, self.stored_offsets)

    def owned(self) -> set[int]:
        """The readings partitions this worker holds now."""
        return {tp.partition for tp in self.app.consumer.assignment() if tp.topic == self.topic}

    async def admit(self, events: Sequence[Any]) -> list[Any]:
        """The batch's records each partition is owed, in order; the rest are never acknowledged."""
        consumer = self.app.consumer
        admitted = self._order.admit(
            [(event.message.tp, event.message.offset) for event in events],
            generation=self.app.consumer_generation_id,
            committed=lambda tp: consumer._committed_offset.get(tp),  # type: ignore[attr-defined]  # Faust-private
        )
        for event, keep in zip(events, admitted.keep, strict=True):
            if not keep:
                event.message.acked = True  # Faust then leaves its offset out of every commit
        if admitted.seek:
            await self._seek_back(consumer, admitted.seek)
        return [event for event, keep in zip(events, admitted.keep, strict=True) if keep]

    async def _seek_back(self, consumer: Any, owed: dict[Any, int]) -> None:
        """Read these partitions again from the offsets owed, with nothing older delivered meanwhile.

        Paused, the partitions' records already fetched are not handed to the stream while
        the seek runs on the consumer's own thread (as Faust's own seeks do).
        """
        for tp, offset in owed.items():
            log.warning("records of %s arrived after a gap; reading it again from offset %d", tp, offset)
        tps = as_tps(owed)
        consumer.pause_partitions(tps)
        try:
            await consumer.seek_wait(tps)
        finally:
            consumer.resume_partitions(set(tps) & consumer.assignment())  # a rebalance may have taken some

    @contextmanager
    def batch(self, events: Sequence[Any]) -> Iterator[dict[int, int]]:
        """Around making a batch durable: yields each partition's next offset, to record with the rows;
        commits them to Kafka once the block completes."""
        next_offsets = {event.message.tp: event.message.offset + 1 for event in events}  # admitted in order
        self._busy = True
        try:
            yield {tp.partition: offset for tp, offset in next_offsets.items()}
            self._commits.add(next_offsets)
        finally:
            self._busy, self._last_batch = False, time.monotonic()

    async def lag(self) -> dict[int, int] | None:
        """Records on this worker's partitions past what the database holds; None when it cannot be read."""
        partitions = [tp for tp in self.app.consumer.assignment() if tp.topic == self.topic]
        if not partitions:
            return {}
        try:
            ends = await asyncio.wait_for(self.app.consumer.highwaters(*partitions), timeout=10)
        except (KafkaError, TimeoutError) as error:
            log.warning("could not measure consumer lag: %r", error)
            return None
        committed = self.app.consumer._committed_offset  # type: ignore[attr-defined]  # Faust-private; the database's offsets
        return {tp.partition: max(0, ends[tp] - (committed.get(tp) or 0)) for tp in partitions}

    def stalled_for(self, waiting: int) -> float | None:
        """Seconds since the last batch when `waiting` readings wait and none has arrived for too long."""
        idle = time.monotonic() - self._last_batch
        return idle if stalled(waiting, self._busy, idle, self.stall_seconds) else None
