"""The commit guard and the stall rule that keep Faust from skipping a reading."""

from __future__ import annotations

from collections import defaultdict

from faust.types import TP

from vigia.stream.faust_tuning import guard_commits, skips_head, stalled


def test_a_run_starting_one_past_the_committed_offset_skips_the_head() -> None:
    assert skips_head([11, 12, 13], committed=10)  # 10 was read and never acknowledged


def test_a_run_from_the_committed_offset_is_safe() -> None:
    assert not skips_head([10, 11, 12], committed=10)


def test_a_wider_gap_is_the_log_itself_and_left_to_faust() -> None:
    assert not skips_head([15, 16], committed=10)  # retention or compaction removed 10..14


def test_nothing_acknowledged_or_nothing_committed_holds_nothing() -> None:
    assert not skips_head([], committed=10)
    assert not skips_head([1, 2], committed=None)


class FakeConsumer:
    """Faust's bookkeeping, as far as its commit computation reads it."""

    def __init__(self) -> None:
        self._acked: dict[object, list[int]] = defaultdict(list)
        self._committed_offset: dict[object, int | None] = defaultdict(lambda: None)
        self.asked: list[object] = []

    def _new_offset(self, tp: object) -> int | None:
        self.asked.append(tp)
        acked = self._acked[tp]
        return max(acked) + 1 if acked else None


def test_the_guard_holds_only_the_guarded_topics_with_an_unacknowledged_head() -> None:
    consumer = FakeConsumer()
    readings, other = TP("readings", 0), TP("other", 0)
    for tp in (readings, other):
        consumer._committed_offset[tp] = 10
        consumer._acked[tp] = [11, 12]
    guard_commits(consumer, {"readings"})

    assert consumer._new_offset(readings) is None  # held: offset 10 must be read again
    assert consumer._new_offset(other) == 13  # Faust's own answer
    consumer._acked[readings] = [10, 11, 12]
    assert consumer._new_offset(readings) == 13  # the head acknowledged: the commit goes through


def test_a_stall_needs_waiting_readings_an_idle_agent_and_time() -> None:
    assert stalled(lag=5, busy=False, idle_seconds=31, limit=30)
    assert not stalled(lag=0, busy=False, idle_seconds=300, limit=30)  # caught up: quiet, not stalled
    assert not stalled(lag=5, busy=True, idle_seconds=300, limit=30)  # a batch waits for the database
    assert not stalled(lag=5, busy=False, idle_seconds=10, limit=30)  # readings may be on their way
