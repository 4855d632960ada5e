"""Faust settings, and the worker's own hand on where the readings partitions stand.

Faust's default monitor sensor records timings and counters for every event; the worker
exports its own Prometheus figures per batch, so the per-event bookkeeping is switched
off (about 7 % more events a second through a bare agent on this machine).

Fetches. Faust's consumer asks Kafka for records with aiokafka's default of answering as
soon as one byte is there, and gives no setting for it. Under a steady flow that means a
fetch for every few records, and Faust's fetch loop turns once for each; with Kafka told
to gather 64 KiB or wait a little first (`chunked_fetches`; 200 ms then, 50 ms now, which
keeps a live reading's wait short), the readings waiting in Kafka at 2,000 readings/s on
the drills' stack fell from a mean of 6,110 to 1,042.

Offsets. The database records, with each batch's rows, the next offset of every
partition the batch read (see `sink.py`); that is where the partition stands. Faust would
commit to Kafka from its own run of acknowledged offsets, and that run can pass over a
message it read and never delivered (around a rebalance; faust-streaming issue 606). So
Faust never commits the readings topic (`own_commits`); the worker commits the
database's offsets itself once they are durable (`commit_durable`), and when a rebalance
gives it partitions it moves Kafka's commit and position to the database's offsets
(`resume_where_durable`) before Faust resumes fetching. Kafka's commit is therefore never
ahead of the rows: at worst behind, and what is read again the natural keys absorb.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

import faust
from faust.sensors import Monitor
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from stream.offset_order import resume_points

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


def chunked_fetches(app: faust.App, *, min_bytes: int, max_wait_ms: int) -> faust.App:
    """Give the app a Kafka transport whose consumer lets the broker gather records per fetch."""

    class ChunkedConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
        def _create_worker_consumer(self, transport: Any) -> Any:
            consumer = super()._create_worker_consumer(transport)
            consumer._fetch_min_bytes = min_bytes  # read by aiokafka's start(), when it builds its fetcher
            consumer._fetch_max_wait_ms = max_wait_ms
            return consumer

    class ChunkedConsumer(faust_aiokafka.Consumer):
        def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
            return ChunkedConsumerThread(self, loop=self.loop, beacon=self.beacon)

    class ChunkedTransport(faust_aiokafka.Transport):
        Consumer = ChunkedConsumer

    app.transport = ChunkedTransport(app.conf.broker_consumer, app)
    return app


def own_commits(consumer: Any, topics: Collection[str]) -> None:
    """Faust goes on pruning its acknowledged offsets of these topics, and never commits them."""
    new_offset: Callable[[Any], int | None] = consumer._new_offset  # Faust's own, private

    def held(tp: Any) -> int | None:
        offset = new_offset(tp)  # also drops the acknowledged run from Faust's bookkeeping
        return None if tp.topic in topics else offset

    consumer._new_offset = held


def as_tps(offsets: Mapping[Any, int]) -> dict[TP, int]:
    """Faust's partition type: its consumer asserts on it, and aiokafka hands out its own."""
    return {TP(tp.topic, tp.partition): offset for tp, offset in offsets.items()}


async def commit_durable(consumer: Any, offsets: Mapping[Any, int]) -> bool:
    """Commit offsets the database already holds; refused during a rebalance, which costs a re-read.

    Only partitions still assigned are committed, and nothing when none is: a batch's
    partitions may have moved while it was written, and Faust, which drops the others
    itself, hands aiokafka an empty commit that it rejects, crashing the consumer thread
    (found by the cluster drill: a worker stopped and restarted when a fourth joined).
    """
    assigned = set(consumer.assignment())
    offsets = {tp: offset for tp, offset in as_tps(offsets).items() if tp in assigned}
    if not offsets:
        return False  # their new owner resumes where the database says
    done = bool(await consumer._commit(offsets))  # Faust's own transport-level commit
    if done:
        consumer._committed_offset.update(offsets)
    return done


async def resume_where_durable(
    consumer: Any, topic: str, stored: Callable[[], Awaitable[Mapping[int, int] | None]]
) -> dict[TP, int]:
    """Move `topic`'s assigned partitions to the database's offsets: commit them, and seek.

    Called while Faust holds the new assignment paused, before it seeks to the committed
    offsets and resumes: both its seek and any reset of the consumer's position then land
    where the rows end. `stored` returns the database's next offset per partition, or None
    when it cannot be read (Kafka's commit then stands). Returns each partition's place.
    """
    partitions = [TP(tp.topic, tp.partition) for tp in consumer.assignment() if tp.topic == topic]
    recorded = await stored() if partitions else None
    if not recorded:
        return {}
    points, notes = resume_points(
        partitions,
        stored={tp: recorded[tp.partition] for tp in partitions if tp.partition in recorded},
        earliest=await consumer.earliest_offsets(*partitions),
        ends=await consumer.highwaters(*partitions),
    )
    for note in notes:
        log.warning("%s %s", topic, note)
    places = as_tps(points)
    if places:
        await consumer.seek_wait(places)
        if not await commit_durable(consumer, places):
            log.warning("%s: Kafka refused the commit of %s; the seek stands", topic, places)
    log.info(
        "%s partitions resume at %s, where the database's rows end",
        topic,
        {tp.partition: o for tp, o in places.items()},
    )
    return places


def stalled(lag: int, busy: bool, idle_seconds: float, limit: float) -> bool:
    """Readings wait on the topic, none is being handled, and none has arrived for `limit` seconds.

    Faust drops messages from a stream around a rebalance; the worker seeks back for them
    (see `offset_order.py`), and should that seek not bring them, nothing would read them
    until the worker restarts where the database says. A database outage is not a stall:
    the batch waiting for it keeps the worker busy.
    """
    return lag > 0 and not busy and idle_seconds >= limit
