"""The inference worker: tile jobs from Kafka to assessments in TimescaleDB and embeddings in Kafka.

Per batch: assess the images (ONNX Runtime and OpenCV on worker threads, so the event loop
keeps the Kafka group alive), write the imagery rows and the roll-ups of their sensor tiles
in one transaction, publish the roll-ups' embeddings and any rejected jobs, and only then
commit the batch's own offsets. A worker killed anywhere in between leaves either no rows or
whole rows, and its jobs are assessed again; rows are keyed by tile, model and image time,
so the replay rewrites instead of adding.

While one batch is written, published and committed, the next is already being assessed:
the writes wait on the database and Kafka more than they use a core, and on the stack they
were a seventh of each batch. Batches are still written and committed one at a time and in
order, and before a rebalance takes partitions away the batch in hand is finished first.

The worker serves the registry's champion (MLflow, see `registry.py`) and looks again
every `model_check_seconds` between batches, so `vigia model promote` takes effect without
a restart; while the tracking server is away it keeps serving what it has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from prometheus_client import start_http_server

from inference import change, embeddings, jobs, repo, serve, telemetry
from inference.assessor import Assessment, Assessor
from inference.housing import roll_up
from inference.registry import ModelRegistry, RegistryError
from inference.serve import ServedModel
from vigia import kafka, logs, topics
from vigia.archive import ImageryArchive
from vigia.contracts import RejectedTileJob, TileEmbedding, TileJob
from vigia.heartbeat import beat_forever, heartbeat_path
from vigia.images import ImageError
from vigia.settings import Settings

log = logging.getLogger(__name__)
GROUP = "vigia-inference"


class NoModelLoaded(RuntimeError):
    """`run()` loads a model before it takes the first batch; reaching a batch without one is a bug."""


class ModelMismatch(RuntimeError):
    """The weights fetched for a registry version are not that version's: refused, the loaded model stays."""


@dataclass
class BatchOutcome:
    assessed: int = 0
    embeddings: list[TileEmbedding] = field(default_factory=list)
    rejected: list[RejectedTileJob] = field(default_factory=list)
    changes: int = 0  # change alerts opened


@dataclass
class Assessed:
    """A batch the model has seen and nothing has recorded yet."""

    jobs: list[TileJob]
    results: list[Assessment | ImageError]
    rejected: list[RejectedTileJob]
    version: str  # the model that assessed it: a promotion may land before it is written
    now: datetime
    offsets: dict[TopicPartition, int]  # the next offset of each partition, once it is written
    started: float  # time.monotonic() as its assessment began: the batch's time runs from there


class FinishFirst(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Before partitions are taken away, the batch being written is finished and committed."""

    def __init__(self, worker: TileWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self.worker.settle()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        return None


class TileWorker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = asyncio.Event()
        self.served = ServedModel()  # shared with the on-demand assessments of `serve.py`
        self.conn: psycopg.Connection | None = None
        self.registry = ModelRegistry(settings)
        self.archive = ImageryArchive.from_settings(settings)
        self.pending: asyncio.Task[None] | None = None  # the batch being written, published and committed

    def _connect(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed:
            self.conn = psycopg.connect(self.settings.db_conninfo, autocommit=True)
        return self.conn

    @property
    def assessor(self) -> Assessor | None:
        return self.served.assessor

    def _refresh_model(self) -> None:
        """Load the model to serve if it is not the one loaded: a fixed file, or the registry's champion.

        The champion's weights are fetched from the tracking server into this worker's own
        cache, so a worker needs no disk but its own; a registry without a champion gets
        the shipped model.
        """
        if self.settings.model_path is not None:
            if self.assessor is None:
                self.served.swap(
                    Assessor.from_file(
                        self.settings.model_path,
                        threads=self.settings.inference_threads,
                        int8=self.settings.inference_int8,
                    )
                )
            return
        champion = self.registry.ensure_champion()
        if self.assessor is not None and self.assessor.version == champion.version:
            return
        path = self.registry.fetch(champion)
        fresh = Assessor.from_file(path, threads=self.settings.inference_threads, int8=self.settings.inference_int8)
        if fresh.version != champion.version:
            fresh.close()
            raise ModelMismatch(
                f"registry version {champion.number} is tagged {champion.version} but holds {fresh.version}"
            )
        old = self.served.swap(fresh)
        if old is not None:
            old.close()
        log.info("serving model %s (registry version %s, %s)", champion.version, champion.number, fresh.precision)

    def assess(self, values: list[bytes | None], offsets: dict[TopicPartition, int]) -> Assessed:
        """Decode a batch's jobs and assess their images. Runs on a worker thread; writes nothing."""
        started = time.monotonic()
        assessor = self.assessor
        if assessor is None:
            raise NoModelLoaded("a batch arrived before a model was loaded")
        now = datetime.now(UTC)
        decoded = jobs.decode_jobs(values, now)
        results = assessor.assess([job.image for job in decoded.jobs]) if decoded.jobs else []
        return Assessed(decoded.jobs, results, list(decoded.rejected), assessor.version, now, offsets, started)

    def persist(self, batch: Assessed) -> BatchOutcome:
        """Make an assessed batch durable: archive, rows and roll-ups. Runs on a worker thread."""
        outcome = BatchOutcome(rejected=batch.rejected)
        if not batch.jobs:
            return outcome
        now, version = batch.now, batch.version
        rows, rejected = jobs.image_rows(batch.jobs, batch.results, sensor_zoom=self.settings.tile_zoom, now=now)
        outcome.rejected.extend(rejected)
        kept = [  # archived before anything refers to it: a crash leaves at most an unreferenced file
            repo.ImageryRow(job.tile_id, job.captured_at, job.district, job.source, self.archive.put(job.image))
            for job, result in zip(batch.jobs, batch.results, strict=True)
            if not isinstance(result, ImageError)
        ]
        conn = self._connect()
        with conn.transaction():
            repo.record_imagery(conn, kept)
            repo.upsert_assessments(conn, rows)
            imagery = [row for row in rows if row.zoom > self.settings.tile_zoom]  # not a block's own upload
            outcome.changes = compare_with_previous(conn, imagery, version)
            rollups = []
            for parent in sorted({row.parent_tile_id for row in rows if row.parent_tile_id}):
                parts, newest = repo.latest_sub_tiles(conn, parent_tile_id=parent, model_version=version)
                if parts and newest is not None:
                    district = next((r.district for r in rows if r.parent_tile_id == parent and r.district), None)
                    rollups.append(
                        jobs.roll_up_row(parent, roll_up(parts), time=newest, district=district, model_version=version)
                    )
            repo.upsert_assessments(conn, rollups)
        direct = [row for row in rows if row.zoom <= self.settings.tile_zoom]  # already sensor tiles
        outcome.assessed = len(rows)
        outcome.embeddings = [jobs.embedding_of(row, now) for row in direct + rollups]
        return outcome

    async def deliver(self, batch: Assessed, producer: AIOKafkaProducer, consumer: AIOKafkaConsumer) -> None:
        """Write a batch, publish what it became, then commit its offsets: in that order, or not at all."""
        outcome = await asyncio.to_thread(self.persist, batch)
        await embeddings.send(producer, outcome.embeddings)
        for rejected in outcome.rejected:
            await producer.send(
                topics.TILE_JOBS_DEAD_LETTER,
                value=rejected.model_dump_json().encode(),
                key=(rejected.tile_id or "").encode() or None,
            )
        await producer.flush()
        await commit_owned(consumer, batch.offsets)
        telemetry.TILES.labels("assessed").inc(outcome.assessed)
        telemetry.TILES.labels("rejected").inc(len(outcome.rejected))
        telemetry.EMBEDDINGS.inc(len(outcome.embeddings))
        telemetry.BATCH_SECONDS.observe(time.monotonic() - batch.started)
        log.info(
            "assessed %d tiles, published %d sensor-tile embeddings, rejected %d",
            outcome.assessed,
            len(outcome.embeddings),
            len(outcome.rejected),
        )

    async def settle(self) -> None:
        """Wait for the batch in hand to be written and committed, leaving any error to `finish_pending`."""
        if self.pending is not None:
            await asyncio.wait([self.pending])

    async def finish_pending(self) -> None:
        """Wait for the batch in hand to be written and committed; raises what it raised."""
        pending, self.pending = self.pending, None
        if pending is not None:
            await pending

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        while self.assessor is None and not self.stopping.is_set():
            try:
                await asyncio.to_thread(self._refresh_model)
            except (RegistryError, ModelMismatch) as error:
                log.warning("no model to serve yet: %s; trying again in 5 s", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=5)
        if self.stopping.is_set():
            return
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=GROUP,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=8 * 1024 * 1024,
        )
        consumer.subscribe([topics.TILE_JOBS], listener=FinishFirst(self))
        producer = kafka.producer(self.settings)
        await consumer.start()
        await producer.start()
        side = [asyncio.create_task(beat_forever(heartbeat_path(self.settings.state_dir, "inference")))]
        if self.settings.inference_metrics_port:
            start_http_server(self.settings.inference_metrics_port, addr=self.settings.bind_host)
        on_demand = serve.server(self.settings, self.served) if self.settings.inference_port else None
        if on_demand is not None:
            side.append(asyncio.create_task(on_demand.serve()))
        checked = loop.time()
        try:
            while not self.stopping.is_set():
                if loop.time() - checked > self.settings.model_check_seconds:
                    checked = loop.time()
                    await self.finish_pending()
                    try:  # between batches, so no batch ever sees the model change under it
                        await asyncio.to_thread(self._refresh_model)
                    except (RegistryError, ModelMismatch, OSError) as error:
                        log.warning("could not check the model registry: %s", error)
                fetched = await consumer.getmany(timeout_ms=500, max_records=self.settings.inference_batch)
                values = [record.value for records in fetched.values() for record in records]
                if not values:
                    await self.finish_pending()  # nothing to overlap with: commit now
                    continue
                offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items() if records}
                batch = await asyncio.to_thread(self.assess, values, offsets)  # while the last one is written
                await self.finish_pending()
                self.pending = asyncio.create_task(self.deliver(batch, producer, consumer))
            await self.finish_pending()
        finally:
            if self.pending is not None:  # stopped by an error: what was in hand is assessed again
                self.pending.cancel()
            if on_demand is not None:
                on_demand.should_exit = True
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(side.pop(), timeout=5)
            for task in side:
                task.cancel()
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            if self.assessor is not None:
                self.assessor.close()
            if self.conn is not None:
                self.conn.close()
            log.info("inference worker stopped")


async def commit_owned(consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
    """Commit the offsets of the partitions this worker still owns.

    A rebalance that lands between a batch's assessment and its commit moves some of its
    partitions to another worker, which assesses those jobs again: the rows are rewritten,
    not added, so that costs only the work.
    """
    owned = {tp: offset for tp, offset in offsets.items() if tp in consumer.assignment()}
    if not owned:
        return
    try:
        await consumer.commit(owned)
    except (CommitFailedError, IllegalStateError) as error:
        log.warning("offsets not committed, the group moved on (%s): those jobs will be assessed again", error)


def compare_with_previous(conn: psycopg.Connection, rows: list[repo.AssessmentRow], version: str) -> int:
    """Each new acquisition against the one before it by the same model (`inference/change.py`); a significant
    change in the tile's newest imagery, compared for the first time, opens an alert on the block (the sensor
    tile) that holds it, so the map, the page and messages name it as they name the block. Returns how many."""
    opened = 0
    for row in rows:
        previous = repo.previous_seen(conn, tile_id=row.tile_id, model_version=version, before=row.time)
        if previous is None:
            continue
        before = change.Seen(*previous)
        after = change.Seen(row.time, row.land_use_class, row.housing_score, row.embedding, row.features or {})
        found = change.compare(before, after)
        block = row.parent_tile_id or row.tile_id
        stored = repo.ChangeRow(row.tile_id, before.captured_at, row.time, version, row.district, found, block)
        first = repo.record_change(conn, stored)
        if found.significant and first and repo.is_newest(conn, tile_id=row.tile_id, captured_at=row.time):
            detail = f"{row.tile_id}: {change.detail(found, before.captured_at, row.time)}"
            opened += repo.open_change_alert(conn, stored, title=change.TITLES[found.kind], detail=detail) is not None
    return opened


def run(settings: Settings) -> None:
    logs.setup("inference")
    asyncio.run(TileWorker(settings).run())
