"""The stream's one door to TimescaleDB: a batch is durable as a whole, or not at all.

`write` runs one transaction per batch: insert the readings (the database says which are
new), load the windows in flight of sensors this worker has not seen yet, fold and
evaluate the new readings, upsert the window rows, record the alert changes and where
each partition resumes. That last row, not Kafka's committed offset, decides where a
worker starts reading a partition, so a crash anywhere replays the batch and the replay
finds nothing new. When the database is away,
`write` keeps retrying with backoff (the batch, and every later one, wait behind it: no
reading is lost or reordered), forgetting the failed attempt's state each time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence

import psycopg
from aiokafka import AIOKafkaProducer
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from stream import repo
from stream.alerts import Change
from stream.lane import Place
from stream.processor import HousingOf, Outcome, Processor, key_of
from stream.rule_book import Fired, Replayed
from stream.window_book import Key
from vigia import topics
from vigia.reading_records import FlatReading

log = logging.getLogger(__name__)
DATABASE_AWAY = (psycopg.OperationalError, psycopg.InterfaceError)


class Sink:
    def __init__(self, conninfo: str, processor: Processor, group: str = "vigia-stream") -> None:
        self.conninfo = conninfo
        self.processor = processor
        self.group = group  # whose place on the readings topic the sink records
        self._conn: psycopg.AsyncConnection | None = None
        # One connection, one command at a time: the agent's batches and the timer's
        # staleness checks and outbox sends take turns.
        self._lock = asyncio.Lock()

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(self.conninfo, connect_timeout=5, autocommit=True)
        return self._conn

    async def _drop(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        self._conn = None

    async def _retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type(DATABASE_AWAY),
            wait=wait_exponential(multiplier=0.2, max=5),
            before_sleep=lambda state: log.warning(
                "database away (%s); retrying", state.outcome.exception() if state.outcome else ""
            ),
            reraise=True,
        )

    async def write(
        self,
        readings: Sequence[FlatReading],
        housing_of: HousingOf,
        next_offsets: Mapping[int, int] | None = None,
        partitions: Mapping[str, int] | None = None,
    ) -> Outcome:
        """Make the batch durable; `next_offsets` (readings partition to the offset after the
        batch's last record) are recorded in the same transaction. `partitions` says which
        partition each sensor's readings came from, so its state can follow the partition."""
        self.processor.note_partitions(dict(partitions or {}))
        async for attempt in await self._retrying():
            with attempt:
                snapshot = self.processor.snapshot()
                try:
                    async with self._lock:
                        return await self._write_once(readings, housing_of, next_offsets or {})
                except DATABASE_AWAY:
                    self.processor.rollback(readings, snapshot)
                    await self._drop()
                    raise
                except BaseException:
                    self.processor.rollback(readings, snapshot)  # the transaction did not commit either
                    raise
        raise AssertionError("unreachable: tenacity re-raises")  # pragma: no cover

    async def _write_once(
        self, readings: Sequence[FlatReading], housing_of: HousingOf, next_offsets: Mapping[int, int]
    ) -> Outcome:
        conn = await self._connection()
        async with conn.transaction():
            new = await repo.insert_readings(conn, readings)
            fresh = []
            for reading in readings:  # a record twice in one batch is new once
                if reading.reading_id in new:
                    new.discard(reading.reading_id)
                    fresh.append(reading)
            await self._load_windows(conn, fresh)
            await self._load_new_sensors(conn, fresh)
            self.processor.adopt_panes(await repo.load_pane_spans(conn, self.processor.refold_reach(fresh)))
            outcome = self.processor.process(fresh, housing_of, time.time())
            revealed, replayed = await self._revealed(conn, outcome, housing_of)
            ended = {f.change.alert.alert_id for f in revealed if f.change.change is Change.RESOLVED}
            ended |= {alert_id for alert_id, _ in replayed.withdrawn}
            # The live readings' word on an alert the late ones show had ended, or never was, is stale.
            outcome.fired = revealed + [f for f in outcome.fired if f.change.alert.alert_id not in ended]
            await repo.mark_late(conn, outcome.late)
            await repo.upsert_panes(conn, outcome.panes)
            await repo.upsert_hopping(conn, outcome.hopping)
            outcome.fired = await self._unless_resolved(conn, outcome.fired)
            await repo.record_alerts(conn, outcome.fired)
            await repo.redate_alerts(conn, replayed.redated)  # after: the alert may have opened in this very batch
            await repo.correct_alerts(conn, replayed.corrected)
            await repo.withdraw_alerts(conn, replayed.withdrawn)
            await repo.save_offsets(conn, group=self.group, topic=topics.READINGS, next_offsets=next_offsets)
        return outcome

    async def _revealed(
        self, conn: psycopg.AsyncConnection, outcome: Outcome, housing_of: HousingOf
    ) -> tuple[list[Fired], Replayed]:
        """What the batch's late readings change in the alerts (see `stream/reconcile.py`): the
        changes to record, in the order they happened (an alert resolved before the next of its
        rule opens), and the corrections. The late readings are already stored, so the
        readings read back include them."""
        if not outcome.refolded:
            return [], Replayed()
        history: dict[Key, list[tuple[float, float]]] = {}
        spans = self.processor.replay_spans(outcome.refolded)
        while spans:  # back to where each condition they fall in began (within the horizon)
            read = await repo.readings_before(conn, spans=spans)
            history.update(read)
            spans = self.processor.reach_back(spans, read)
        stored = await repo.alerts_within(
            conn,
            spans=[(sensor, readings[0][0], readings[-1][0]) for (sensor, _), readings in history.items() if readings],
        )
        replayed = self.processor.revealed(history, stored, housing_of)
        changes = replayed.settled + [f for episode in replayed.episodes for f in episode]
        return sorted(changes, key=lambda f: f.change.at), replayed

    async def _unless_resolved(self, conn: psycopg.AsyncConnection, fired: list[Fired]) -> list[Fired]:
        """The changes to record, less those to alerts the database already holds resolved.

        A person may resolve an alert through the API while its condition lasts; the stream
        learns it here, the first time the alert would change again, and from then on
        follows the condition without a word (no update, no second resolution).
        """
        if not fired:
            return fired
        resolved = await repo.resolved_alerts(conn, alert_ids=sorted({f.change.alert.alert_id for f in fired}))
        if not resolved:
            return fired
        self.processor.resolved_by_hand(resolved)
        return [f for f in fired if f.change.alert.alert_id not in resolved]

    async def stored_offsets(self) -> dict[int, int]:
        """Where each readings partition resumes, by what is durable; on a connection of its own,
        so a rebalance can ask while a batch holds the sink's."""
        async with await psycopg.AsyncConnection.connect(self.conninfo, connect_timeout=5, autocommit=True) as conn:
            return await repo.load_offsets(conn, group=self.group, topic=topics.READINGS)

    async def _load_windows(self, conn: psycopg.AsyncConnection, fresh: Sequence[FlatReading]) -> None:
        unknown = self.processor.unknown_keys(fresh)
        if not unknown:
            return
        loaded = await repo.load_panes(conn, unknown, since=self.processor.history_needed(fresh, unknown))
        places = {key_of(r): Place(r.district, r.tile_id) for r in fresh}
        for key, (panes, newest) in loaded.items():
            self.processor.load_windows(key, places[key], panes, newest)

    async def _load_new_sensors(self, conn: psycopg.AsyncConnection, fresh: Sequence[FlatReading]) -> None:
        """For sensors new here: their open alerts, and their rule trackers rebuilt from their readings."""
        sensors = self.processor.new_sensors(fresh)
        if not sensors:
            return
        self.processor.restore_open_alerts(sensors, await repo.load_open_alerts(conn, sensors=sorted(sensors)))
        spans = self.processor.history_spans(fresh, sensors)
        self.processor.prime(await repo.readings_before(conn, spans=spans))

    async def own(self, partitions: set[int]) -> set[str]:
        """This worker now holds these readings partitions: forget the sensors of the others."""
        async with self._lock:  # after the batch being written, before the next
            return self.processor.own(partitions)

    async def tick(self, housing_of: HousingOf) -> list[Fired]:
        """Staleness on the stream clock, recorded like any other alert change."""
        async for attempt in await self._retrying():
            with attempt:
                snapshot = self.processor.snapshot()
                try:
                    async with self._lock:
                        conn = await self._connection()
                        fired = self.processor.tick(time.time(), housing_of)
                        if fired:
                            async with conn.transaction():
                                fired = await self._unless_resolved(conn, fired)
                                await repo.record_alerts(conn, fired)
                        return fired
                except DATABASE_AWAY:
                    self.processor.rollback_tick(snapshot)
                    await self._drop()
                    raise
        raise AssertionError("unreachable: tenacity re-raises")  # pragma: no cover

    async def publish_alerts(self, producer: AIOKafkaProducer) -> int:
        """Send recorded alert changes not yet on the alerts topic; mark them once Kafka has them."""
        sent = 0
        while True:
            async with self._lock:
                conn = await self._connection()
                pending = await repo.unpublished_alerts(conn)
            if not pending:
                return sent
            for _, alert in pending:
                await producer.send(topics.ALERTS, alert.model_dump_json().encode(), key=alert.sensor_id.encode())
            await producer.flush()
            async with self._lock:
                conn = await self._connection()
                await repo.mark_published(conn, [key for key, _ in pending])
            sent += len(pending)

    async def retain(self, keep_days: dict[str, int]) -> int:
        """Enforce retention: a TimescaleDB policy where the licence has them, else drop chunks now."""
        async with self._lock:
            conn = await self._connection()
            if await repo.retention_policies_available(conn):
                await repo.ensure_retention_policies(conn, keep_days)
                return 0
            return await repo.apply_retention(conn, keep_days)

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
