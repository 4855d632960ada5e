"""Faust settings and guards for a worker that must never skip a reading, shared with the benchmark's floor.

Faust's default monitor sensor records timings and counters for every event; the worker
exports its own Prometheus figures per batch, so the per-event bookkeeping is switched
off (about 7 % more events a second through a bare agent on this machine).

Faust computes the offset to commit from the run of acknowledged offsets, and lets that
run begin one past the committed offset: a message read but never acknowledged at the
head of a partition (one a rebalance dropped from the stream, say) is then committed over
and never read again (faust-streaming issue 606). `guard_commits` holds the commit
instead, and `stalled` tells the worker when held messages are waiting for a restart.

Kafka's commit is still only a hint: `resume_where_durable` makes Faust's seek to the
committed offsets, after every rebalance, go on to the offsets the database recorded with
the rows, which no commit can pass.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, MutableMapping, Sequence
from typing import Any

import faust
from faust.sensors import Monitor

from vigia.stream.offset_order import resume_points

log = logging.getLogger(__name__)


class QuietMonitor(Monitor):
    """Faust's monitor without its per-message and per-event bookkeeping."""

    def on_message_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_in(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_stream_event_out(self, *args: Any, **kwargs: Any) -> None:
        return None

    def on_message_out(self, *args: Any, **kwargs: Any) -> None:
        return None


def quiet(app: faust.App) -> faust.App:
    app.monitor = QuietMonitor()
    return app


def skips_head(acked: Sequence[int], committed: int | None) -> bool:
    """Whether committing this run of acknowledged offsets would pass over an unacknowledged message.

    `committed` is the next offset to read. A run starting exactly one past it means the
    message at `committed` was read and not acknowledged; a larger distance is a gap in
    the log itself (retention, compaction), which Faust already handles.
    """
    return committed is not None and bool(acked) and min(acked) == committed + 1


def guard_commits(consumer: Any, topics: Collection[str]) -> None:
    """Hold the commit of these topics' partitions while their head message is unacknowledged."""
    new_offset: Callable[[Any], int | None] = consumer._new_offset  # Faust's own, private

    def guarded(tp: Any) -> int | None:
        if tp.topic in topics and skips_head(consumer._acked[tp], consumer._committed_offset[tp]):
            return None
        return new_offset(tp)

    consumer._new_offset = guarded


def resume_where_durable(
    consumer: Any,
    topic: str,
    stored: Callable[[], Awaitable[Mapping[int, int] | None]],
    durable: MutableMapping[Any, int],
) -> None:
    """After Faust seeks to the committed offsets, seek `topic`'s partitions to the stored ones.

    `stored` returns the database's next offset per partition, or None when it cannot be
    read (Kafka's commit then stands: records read twice are absorbed by the natural keys).
    `durable` receives every assigned partition's starting point. Faust records what this
    returns as the committed offsets, so its bookkeeping and the worker's agree.
    """
    seek_to_committed: Callable[[], Awaitable[Mapping[Any, int]]] = consumer.seek_to_committed

    async def seek() -> Mapping[Any, int]:
        committed = dict(await seek_to_committed())
        partitions = [tp for tp in consumer.assignment() if tp.topic == topic]
        recorded = await stored() if partitions else None
        if recorded:
            points, notes = resume_points(
                partitions,
                committed=committed,
                stored={tp: recorded[tp.partition] for tp in partitions if tp.partition in recorded},
                earliest=await consumer.earliest_offsets(*partitions),
                ends=await consumer.highwaters(*partitions),
            )
            for note in notes:
                log.warning("%s %s", topic, note)
            if points:
                await consumer.seek_wait(points)
                committed.update(points)
        durable.update({tp: committed[tp] for tp in partitions if committed.get(tp) is not None})
        return committed

    consumer.seek_to_committed = seek


def stalled(lag: int, busy: bool, idle_seconds: float, limit: float) -> bool:
    """Readings wait on the topic, none is being handled, and none has arrived for `limit` seconds.

    Faust drops messages from a stream during a rebalance and reads them again after
    seeking to the committed offsets; if a message is dropped after that seek, the
    partition's commits stop behind it and nothing reads it until the worker restarts.
    A database outage is not a stall: the batch waiting for it keeps the worker busy.
    """
    return lag > 0 and not busy and idle_seconds >= limit
