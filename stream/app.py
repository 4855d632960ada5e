"""The Faust application: readings in batches through windows, the tile join and the alert rules.

The agent hands each batch to a thread of its own (see `loop_thread.py`), where it is
decoded, written by the sink (one transaction, which also records each partition's next
offset: see `sink.py`) and its alerts published. The worker then commits those offsets to
Kafka itself; Faust never commits the readings topic (see `faust_tuning.py`). Tile assessments live
in a GlobalTable fed from the compacted embeddings topic, so a new model version's
embeddings are joined as soon as they arrive, without a restart. A timer checks silent
sensors on the stream clock, sends any alert change still waiting in the outbox, and
beats the heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from stream import telemetry
from stream.commits import Commits
from stream.decode import decode
from stream.faust_tuning import (
    as_tps,
    chunked_fetches,
    commit_durable,
    own_commits,
    quiet,
    resume_where_durable,
    stalled,
)
from stream.loop_thread import LoopThread
from stream.offset_order import OffsetOrder
from stream.processor import HousingOf, Processor
from stream.rules import DEFAULT_RULES, load_rules
from stream.sink import DATABASE_AWAY, Sink
from vigia import kafka, topics
from vigia.contracts import HousingContext, TileEmbedding
from vigia.heartbeat import beat, heartbeat_path
from vigia.settings import Settings

log = logging.getLogger("stream")
RETENTION_EVERY = 3600.0  # seconds between retention passes
STALL_SECONDS = 30.0  # readings waiting this long with none arriving: restart to read them again


@dataclass
class Progress:
    """Whether the agent is inside a batch, and when it last finished one."""

    busy: bool = False
    last: float = field(default_factory=time.monotonic)


def housing_for(tiles: Any, tile_id: str) -> HousingContext:
    """The tile's latest assessment, or 'unassessed': a reading is never dropped for want of one."""
    document = tiles.get(tile_id)
    if not document:
        return HousingContext()
    try:
        return HousingContext.from_embedding(TileEmbedding.model_validate(document))
    except ValidationError:
        log.warning("tile %s has an unreadable assessment; treating it as unassessed", tile_id)
        return HousingContext()


def create_app(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_path or DEFAULT_RULES)  # a bad rule file stops the worker here, with reasons
    app = faust.App(
        "vigia-stream",
        broker=settings.kafka_broker_url,
        store="memory://",
        # Faust keeps table metadata in a directory; keep it with the rest of the local state.
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=settings.kafka_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_enabled=False,
        # Room for several batches while one is written: a full buffer makes Faust pause the
        # partitions and fetch again once it drains, which cost a third of the throughput.
        stream_buffer_maxsize=max(16384, 8 * settings.stream_batch),
        # A worker killed outright holds its partitions until the group gives up on it.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
    )
    quiet(app)
    chunked_fetches(app, min_bytes=settings.stream_fetch_min_bytes, max_wait_ms=settings.stream_fetch_max_wait_ms)
    processor = Processor(
        rules,
        pane=float(settings.window_seconds),
        window=float(settings.hopping_window_seconds),
        lateness=settings.lateness_seconds,
    )
    sink = Sink(settings.db_conninfo, processor)
    # Everything that touches the sink or the alerts producer runs here, off Faust's loop.
    batch_loop = LoopThread("vigia-batches")
    producer: dict[str, AIOKafkaProducer] = {}

    readings_topic = app.topic(
        topics.READINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    embeddings_topic = app.topic(
        topics.TILE_EMBEDDINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    # Every worker needs every tile: readings are keyed by sensor, assessments by tile.
    tiles = app.GlobalTable("tile-assessments", default=None, key_type=str, value_type=None)

    def housing_of() -> HousingOf:
        """One lookup per tile per batch: a batch asks for the same few tiles thousands of times."""
        seen: dict[str, HousingContext] = {}

        def lookup(tile_id: str) -> HousingContext:
            if tile_id not in seen:
                seen[tile_id] = housing_for(tiles, tile_id)
            return seen[tile_id]

        return lookup

    async def kafka_producer() -> AIOKafkaProducer:
        if "alerts" not in producer:
            started = kafka.producer(settings)
            await started.start()
            producer["alerts"] = started
        return producer["alerts"]

    @app.agent(embeddings_topic)
    async def keep_latest_assessment(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            try:
                embedding = TileEmbedding.model_validate_json(value)
            except ValidationError as error:
                log.warning("skipping unreadable tile embedding: %s", error.errors()[:1])
                continue
            tiles[embedding.tile_id] = embedding.model_dump(mode="json")

    progress = Progress()
    order = OffsetOrder()
    commits = Commits(lambda offsets: commit_durable(app.consumer, offsets))
    guarded: list[object] = []

    async def stored_offsets() -> dict[int, int] | None:
        try:
            return await sink.stored_offsets()
        except DATABASE_AWAY as error:
            log.warning("database away while partitions were assigned (%s); resuming at Kafka's commits", error)
            return None

    @app.on_rebalance_complete.connect
    async def resume_partitions(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Sent with the new assignment still paused, before Faust seeks and resumes it."""
        if app.consumer not in guarded:
            own_commits(app.consumer, {topics.READINGS})
            guarded.append(app.consumer)
        await resume_where_durable(app.consumer, topics.READINGS, stored_offsets)

    async def admit(events: list[Any]) -> list[Any]:
        """The batch's records each partition is owed, in order; the rest are never acknowledged."""
        consumer = app.consumer
        admitted = order.admit(
            [(event.message.tp, event.message.offset) for event in events],
            generation=app.consumer_generation_id,
            committed=lambda tp: consumer._committed_offset.get(tp),  # type: ignore[attr-defined]  # Faust-private
        )
        for event, keep in zip(events, admitted.keep, strict=True):
            if not keep:
                event.message.acked = True  # Faust then leaves its offset out of every commit
        if admitted.seek:
            await seek_back(consumer, admitted.seek)
        return [event for event, keep in zip(events, admitted.keep, strict=True) if keep]

    async def seek_back(consumer: Any, owed: dict[Any, int]) -> None:
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

    @app.agent(readings_topic)
    async def process_readings(stream: faust.StreamT[bytes]) -> None:
        """Two batches in play: one being written while the next is taken from Faust.

        Batches are written strictly one after another, so a partition's readings reach
        the database in offset order; the overlap is Faust delivering the next batch while
        the database works on this one.
        """
        batches = stream.take_events(settings.stream_batch, within=settings.stream_batch_seconds)  # type: ignore[attr-defined]  # on Stream, not StreamT
        writing: asyncio.Future[None] | None = None
        try:
            async for taken in batches:
                events = await admit(taken)
                if not events:
                    continue
                if writing is not None:
                    await writing
                writing = asyncio.ensure_future(write(events))
            if writing is not None:
                await writing
        finally:
            if writing is not None and not writing.done():
                writing.cancel()  # not durable, so not committed: read again after the restart

    async def write(events: list[Any]) -> None:
        progress.busy = True
        next_offsets = {event.message.tp: event.message.offset + 1 for event in events}  # admitted in order
        try:
            await handle_until_done(
                [event.value for event in events], {tp.partition: o for tp, o in next_offsets.items()}
            )
            commits.add(next_offsets)
        finally:
            progress.busy, progress.last = False, time.monotonic()

    async def handle_until_done(values: list[bytes], next_offsets: dict[int, int]) -> None:
        """A batch is never skipped: an unexpected failure is logged and the batch tried again.

        (Faust would restart a crashed agent in the same process, after the batch, with the
        batch's offsets blocking every later commit.) The database being away is retried
        inside the sink; this covers the rest, such as Kafka refusing a dead letter.
        """
        delay = 0.5
        while True:
            try:
                await batch_loop.run(handle(values, next_offsets))
                return
            except Exception:
                log.exception("a batch of %d records failed; trying it again in %.1f s", len(values), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def handle(values: list[bytes], next_offsets: dict[int, int]) -> None:
        readings, letters = decode(values)
        out = await kafka_producer()
        for letter in letters:
            await out.send(topics.READINGS_DEAD_LETTER, letter.model_dump_json().encode())
        with telemetry.SINK_SECONDS.time():
            outcome = await sink.write(readings, housing_of(), next_offsets)
        telemetry.record(len(values), outcome, unreadable=len(letters))
        if outcome.fired:
            await sink.publish_alerts(out)

    retained_at = [0.0]

    @app.timer(interval=10.0)  # type: ignore[untyped-decorator]  # faust's timer decorator is untyped
    async def measure_lag() -> None:
        """Records on this worker's partitions past what the database holds: the lag that matters."""
        partitions = [tp for tp in app.consumer.assignment() if tp.topic == topics.READINGS]
        if not partitions:
            return
        try:
            ends = await asyncio.wait_for(app.consumer.highwaters(*partitions), timeout=10)
        except (KafkaError, TimeoutError) as error:
            log.warning("could not measure consumer lag: %r", error)
            return
        committed = app.consumer._committed_offset  # type: ignore[attr-defined]  # Faust-private; the database's offsets
        lag = {tp.partition: max(0, ends[tp] - (committed.get(tp) or 0)) for tp in partitions}
        telemetry.LAG.clear()  # partitions another worker has taken since are no longer ours to report
        for partition, records in lag.items():
            telemetry.LAG.labels(str(partition)).set(records)
        idle = time.monotonic() - progress.last
        if stalled(sum(lag.values()), progress.busy, idle, STALL_SECONDS):
            log.error(
                "%d readings wait on the topic and none has arrived for %.0f s; exiting so the"
                " supervisor restarts the worker where the database says",
                sum(lag.values()), idle,
            )  # fmt: skip
            os._exit(75)  # nothing to flush: every handled batch is durable, with its offsets

    @app.timer(interval=2.0)  # type: ignore[untyped-decorator]  # faust's timer decorator is untyped
    async def every_two_seconds() -> None:
        try:
            await batch_loop.run(housekeeping())
        except DATABASE_AWAY as error:  # the agent's retries report it; the timer tries again next time
            log.warning("staleness check skipped: %s", error)
        beat(heartbeat_path(settings.state_dir, "stream"))

    async def housekeeping() -> None:
        telemetry.record_alerts(await sink.tick(housing_of()))
        await sink.publish_alerts(await kafka_producer())
        if time.monotonic() - retained_at[0] > RETENTION_EVERY or not retained_at[0]:
            dropped = await sink.retain(settings.retention_days)
            retained_at[0] = time.monotonic()
            if dropped:
                log.info("retention dropped %d chunks", dropped)

    return app


def run(settings: Settings) -> None:
    app = create_app(settings)
    if settings.stream_metrics_port:
        telemetry.serve(settings.bind_host, settings.stream_metrics_port)
    worker = faust.Worker(app, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()
