"""The Faust application: readings in batches, decoded, made durable by the sink, their alerts published.

Each batch is handed to a thread of its own (see `loop_thread.py`), where it is decoded
and written by the sink in one transaction: the readings, the windows and alerts the pure
processor folds from the new ones, and each partition's next offset (see `sink.py`). The
worker's place on each partition is kept by `partitions.py`; the tile join by `tiles.py`.
A timer checks silent sensors on the stream clock, sends any alert change still waiting
in the outbox, enforces retention and beats the heartbeat; another watches the lag.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import faust
from aiokafka import AIOKafkaProducer

from stream import telemetry
from stream.decode import decode
from stream.faust_tuning import chunked_fetches, quiet
from stream.group_write import GroupWriter
from stream.loop_thread import LoopThread
from stream.partitions import ReadingPartitions
from stream.processor import Processor
from stream.rules import DEFAULT_RULES, load_rules
from stream.sink import DATABASE_AWAY, Sink
from stream.tiles import TileAssessments
from vigia import kafka, logs, topics
from vigia.heartbeat import beat, heartbeat_path
from vigia.settings import Settings

log = logging.getLogger("stream")
RETENTION_EVERY = 3600.0  # seconds between retention passes
STALL_SECONDS = 30.0  # readings waiting this long with none arriving: restart to read them again


class AlertsProducer:
    """Started on first use, from the batches' loop, where every send happens."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = kafka.producer(self.settings)
            await producer.start()
            self._producer = producer
        return self._producer


class Retention:
    """Old chunks dropped once an hour (or policies installed, where the licence has them)."""

    def __init__(self, sink: Sink, keep_days: dict[str, int], every: float = RETENTION_EVERY) -> None:
        self.sink, self.keep_days, self.every = sink, keep_days, every
        self._last: float | None = None

    async def when_due(self) -> None:
        if self._last is not None and time.monotonic() - self._last < self.every:
            return
        dropped = await self.sink.retain(self.keep_days)
        self._last = time.monotonic()
        if dropped:
            log.info("retention dropped %d chunks", dropped)


def create_app(settings: Settings) -> faust.App:
    rules = load_rules(settings.rules_path or DEFAULT_RULES)  # a bad rule file stops the worker here, with reasons
    app = faust.App(
        "vigia-stream",
        broker=settings.kafka_broker_url,
        store="memory://",
        # Faust keeps table metadata in a directory; keep it with the rest of the local state.
        datadir=str(settings.state_dir / "faust"),
        topic_partitions=settings.kafka_partitions,
        topic_replication_factor=settings.kafka_replication_factor,
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
        horizon=settings.late_horizon_seconds,
    )
    sink = Sink(settings.db_conninfo, processor)
    # Everything that touches the sink or the alerts producer runs here, off Faust's loop.
    batch_loop = LoopThread("vigia-batches")
    alerts_out = AlertsProducer(settings)
    retention = Retention(sink, settings.retention_days)

    readings_topic = app.topic(
        topics.READINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    embeddings_topic = app.topic(
        topics.TILE_EMBEDDINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    tiles = TileAssessments(app.GlobalTable("tile-assessments", default=None, key_type=str, value_type=None))

    async def stored_offsets() -> dict[int, int] | None:
        try:
            return await sink.stored_offsets()
        except DATABASE_AWAY as error:
            log.warning("database away while partitions were assigned (%s); resuming at Kafka's commits", error)
            return None

    partitions = ReadingPartitions(app, topics.READINGS, stored_offsets, stall_seconds=STALL_SECONDS)
    handing: set[asyncio.Future[None]] = set()  # sensors' state following a new assignment

    @app.agent(embeddings_topic)
    async def keep_latest_assessment(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            tiles.keep(value)

    @app.on_rebalance_complete.connect
    async def resume_partitions(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        """Sent with the new assignment still paused, before Faust seeks and resumes it."""
        await partitions.assigned()
        # On the batches' loop, after the batch being written; not awaited here, so a batch
        # waiting for the database does not hold up the group's rebalance.
        handing.add(task := asyncio.ensure_future(batch_loop.run(own(partitions.owned()))))
        task.add_done_callback(handing.discard)

    async def own(owned: set[int]) -> None:
        gone = await sink.own(owned)
        log.info("holding readings partitions %s; forgot %d sensors of the others", sorted(owned), len(gone))

    @app.agent(readings_topic)
    async def process_readings(stream: faust.StreamT[bytes]) -> None:
        """Records taken from Faust as they come, written as soon as the last write is done.

        Writes follow one another strictly, so a partition's readings reach the database in
        offset order; what Faust delivers during a write goes out together in the next one
        (see `group_write.py`).
        """
        batches = stream.take_events(settings.stream_batch, within=settings.stream_batch_seconds)  # type: ignore[attr-defined]  # on Stream, not StreamT
        writer: GroupWriter[Any] = GroupWriter(write, max_items=settings.stream_batch)
        try:
            async for taken in batches:
                await writer.put(await partitions.admit(taken))
            await writer.drain()
        finally:
            await writer.close()  # what was not written is not durable, so not committed: read again after the restart

    async def write(events: list[Any]) -> None:
        # Readings are keyed by sensor: each sensor's state follows its partition.
        sensors = {event.key.decode(): event.message.tp.partition for event in events if event.key}
        with partitions.batch(events) as next_offsets:
            await handle_until_done([event.value for event in events], next_offsets, sensors)

    async def handle_until_done(values: list[bytes], next_offsets: dict[int, int], sensors: dict[str, int]) -> None:
        """A batch is never skipped: an unexpected failure is logged and the batch tried again.

        (Faust would restart a crashed agent in the same process, after the batch, with the
        batch's offsets blocking every later commit.) The database being away is retried
        inside the sink; this covers the rest, such as Kafka refusing a dead letter.
        """
        delay = 0.5
        while True:
            try:
                await batch_loop.run(handle(values, next_offsets, sensors))
                return
            except Exception:
                log.exception("a batch of %d records failed; trying it again in %.1f s", len(values), delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def handle(values: list[bytes], next_offsets: dict[int, int], sensors: dict[str, int]) -> None:
        readings, letters = decode(values)
        out = await alerts_out.started()
        for letter in letters:
            await out.send(topics.READINGS_DEAD_LETTER, letter.model_dump_json().encode())
        with telemetry.SINK_SECONDS.time():
            outcome = await sink.write(readings, tiles.lookup(), next_offsets, sensors)
        telemetry.record(len(values), outcome, unreadable=len(letters))
        if outcome.fired:
            await sink.publish_alerts(out)

    @app.timer(interval=10.0)  # type: ignore[untyped-decorator]  # faust's timer decorator is untyped
    async def watch_lag() -> None:
        lag = await partitions.lag()
        if lag is None:
            return
        telemetry.LAG.clear()  # partitions another worker has taken since are no longer ours to report
        for partition, records in lag.items():
            telemetry.LAG.labels(str(partition)).set(records)
        idle = partitions.stalled_for(sum(lag.values()))
        if idle is not None:
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
        telemetry.record_alerts(await sink.tick(tiles.lookup()))
        await sink.publish_alerts(await alerts_out.started())
        await retention.when_due()

    return app


def run(settings: Settings) -> None:
    app = create_app(settings)
    if settings.stream_metrics_port:
        telemetry.serve(settings.bind_host, settings.stream_metrics_port)
    worker = faust.Worker(app, loglevel="INFO", quiet=True, logging_config=logs.dict_config("stream"))
    worker.execute_from_commandline()
