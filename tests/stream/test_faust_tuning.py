"""The worker's hand on Faust's commits and positions, against a stand-in for Faust's consumer."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping

import faust
from faust.types import TP

from stream.faust_tuning import chunked_fetches, commit_durable, own_commits, resume_where_durable, stalled


class FakeConsumer:
    """Faust's consumer, as far as the worker's offset handling touches it."""

    def __init__(self, assignment: set[TP], earliest: int = 0, end: int = 1000) -> None:
        self._acked: dict[TP, list[int]] = defaultdict(list)
        self._committed_offset: dict[TP, int | None] = defaultdict(lambda: None)
        self.committed_to_kafka: dict[TP, int] = {}
        self.positions: dict[TP, int] = {}
        self.refuse_commits = False
        self._assignment = assignment
        self.earliest, self.end = earliest, end

    def _new_offset(self, tp: TP) -> int | None:
        acked = self._acked[tp]
        offset = max(acked) + 1 if acked else None
        acked.clear()
        return offset

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        if not offsets:
            raise ValueError(offsets)  # aiokafka's answer, which crashes Faust's consumer thread
        if self.refuse_commits:
            return False
        self.committed_to_kafka.update(offsets)
        return True

    def assignment(self) -> set[TP]:
        return self._assignment

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, self.earliest)

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, self.end)

    async def seek_wait(self, offsets: Mapping[TP, int]) -> None:
        self.positions.update(offsets)


READINGS = [TP("readings", 0), TP("readings", 1)]
TABLE = TP("table-changelog", 0)


def stored(offsets: dict[int, int] | None) -> Callable[[], Awaitable[dict[int, int] | None]]:
    async def read() -> dict[int, int] | None:
        return offsets

    return read


def test_faust_keeps_pruning_but_never_commits_the_owned_topics() -> None:
    consumer = FakeConsumer(set(READINGS))
    own_commits(consumer, {"readings"})
    consumer._acked[READINGS[0]] = [10, 11]
    consumer._acked[TABLE] = [3]
    assert consumer._new_offset(READINGS[0]) is None
    assert consumer._acked[READINGS[0]] == []  # Faust's list does not grow without end
    assert consumer._new_offset(TABLE) == 4  # other topics: Faust's own answer


def test_a_durable_commit_updates_faust_bookkeeping_only_when_kafka_took_it() -> None:
    consumer = FakeConsumer(set(READINGS))
    assert asyncio.run(commit_durable(consumer, {READINGS[0]: 42}))
    assert consumer.committed_to_kafka == {READINGS[0]: 42}
    assert consumer._committed_offset[READINGS[0]] == 42
    consumer.refuse_commits = True  # a rebalance under way
    assert not asyncio.run(commit_durable(consumer, {READINGS[0]: 50}))
    assert consumer._committed_offset[READINGS[0]] == 42


def test_offsets_of_partitions_that_moved_away_are_not_committed() -> None:
    consumer = FakeConsumer({READINGS[1]})  # partition 0 went to another worker mid-batch
    assert not asyncio.run(commit_durable(consumer, {READINGS[0]: 42}))
    assert asyncio.run(commit_durable(consumer, {READINGS[0]: 43, READINGS[1]: 7}))
    assert consumer.committed_to_kafka == {READINGS[1]: 7}


def test_assigned_partitions_move_to_the_database_offsets_in_kafka_and_in_the_consumer() -> None:
    consumer = FakeConsumer({*READINGS, TABLE}, earliest=100, end=500)
    consumer.committed_to_kafka = {READINGS[0]: 450, READINGS[1]: 200}  # Kafka ahead on one, behind on the other
    places = asyncio.run(resume_where_durable(consumer, "readings", stored({0: 300, 1: 320, 7: 5})))
    assert places == {READINGS[0]: 300, READINGS[1]: 320}
    assert consumer.positions == places
    assert consumer.committed_to_kafka == places
    assert TABLE not in consumer.positions


def test_without_the_database_kafka_stands() -> None:
    consumer = FakeConsumer(set(READINGS))
    assert asyncio.run(resume_where_durable(consumer, "readings", stored(None))) == {}
    assert asyncio.run(resume_where_durable(consumer, "readings", stored({}))) == {}
    assert consumer.positions == {}
    assert consumer.committed_to_kafka == {}


def test_a_refused_commit_still_seeks() -> None:
    consumer = FakeConsumer(set(READINGS))
    consumer.refuse_commits = True
    places = asyncio.run(resume_where_durable(consumer, "readings", stored({0: 30})))
    assert consumer.positions == places == {READINGS[0]: 30}


def test_a_stall_needs_waiting_readings_an_idle_agent_and_time() -> None:
    assert stalled(lag=5, busy=False, idle_seconds=31, limit=30)
    assert not stalled(lag=0, busy=False, idle_seconds=300, limit=30)  # caught up: quiet, not stalled
    assert not stalled(lag=5, busy=True, idle_seconds=300, limit=30)  # a batch waits for the database
    assert not stalled(lag=5, busy=False, idle_seconds=10, limit=30)  # readings may be on their way


def test_the_worker_consumer_lets_kafka_gather_records_per_fetch() -> None:
    async def created() -> object:
        app = chunked_fetches(faust.App("fetch-test", broker="kafka://127.0.0.1:1"), min_bytes=4096, max_wait_ms=50)
        return app.consumer._thread._create_worker_consumer(app.transport)  # type: ignore[attr-defined]

    consumer = asyncio.run(created())
    assert (consumer._fetch_min_bytes, consumer._fetch_max_wait_ms) == (4096, 50)  # type: ignore[attr-defined]
