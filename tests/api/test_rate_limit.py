"""The sliding-window counter behind the API's rate limit, on a clock the tests move."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from api.rate_limit import SlidingWindowCounter


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def counter(limit: int, seconds: float, clock: Clock) -> SlidingWindowCounter:
    return SlidingWindowCounter(limit, seconds, clock=clock)


def test_a_window_allows_the_limit_and_no_more() -> None:
    clock = Clock(600.0)  # the start of a window
    limit = counter(5, 60, clock)
    assert [limit.hit("alice") for _ in range(6)] == [True] * 5 + [False]
    assert limit.hit("bob")  # each caller has their own counts


def test_the_last_window_counts_by_the_share_still_within_one_window() -> None:
    clock = Clock(600.0)
    limit = counter(10, 60, clock)
    assert all(limit.hit("alice") for _ in range(10))
    clock.now = 600.0 + 60 + 45  # three quarters into the next window: a quarter of 10 still counts
    allowed = 0
    while limit.hit("alice"):
        allowed += 1
    assert allowed == 8  # 2.5 + 7 < 10, 2.5 + 8 is not
    clock.now = 600.0 + 180 + 1  # two windows on, nothing counts
    assert sum(limit.hit("alice") for _ in range(12)) == 10


def test_a_refused_request_is_not_counted() -> None:
    clock = Clock(0.0)
    limit = counter(2, 10, clock)
    assert [limit.hit("a") for _ in range(50)].count(True) == 2
    clock.now = 10.0  # the next window: the last one's count is 2, not 50
    assert limit.retry_after("a") == pytest.approx(0.0)
    clock.now = 10.5
    assert limit.hit("a")


@settings(max_examples=300, deadline=None)
@example(limit=1, seconds=60.0, gaps=[0.0, 0.0])  # refused by this window's count
@example(limit=2, seconds=60.0, gaps=[0.0, 0.0, 1.0, 0.0])  # refused by the last window's
@given(
    limit=st.integers(1, 50),
    seconds=st.sampled_from([1.0, 10.0, 60.0, 3600.0]),
    gaps=st.lists(st.floats(0, 2, allow_nan=False), min_size=1, max_size=200),
)
def test_after_a_refusal_the_retry_after_is_exactly_when_a_request_fits_again(
    limit: int, seconds: float, gaps: list[float]
) -> None:
    """Gaps are in windows. At each refusal, a request just before `retry_after` is refused and
    one just after is allowed."""
    clock = Clock(12_345.0 * seconds)
    probe = counter(limit, seconds, clock)
    for gap in gaps:
        clock.now += gap * seconds
        if probe.hit("a"):
            continue
        wait = probe.retry_after("a")
        assert 0 <= wait <= 2 * seconds  # 0 on the very edge: a moment later fits
        refused_at, then = clock.now, clock.now + wait
        if wait > 1e-6 * seconds:
            clock.now = then - 1e-6 * seconds
            assert not probe.hit("a")
        clock.now = then + 1e-6 * seconds
        assert probe.hit("a")
        assert clock.now > refused_at


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(10, 200), seconds=st.sampled_from([1.0, 60.0]), jitter=st.floats(0, 0.3))
def test_a_caller_below_the_rate_is_never_refused(limit: int, seconds: float, jitter: float) -> None:
    """Requests spaced 1.5 times the limit's pace (some of them later still) always pass."""
    clock = Clock(7.0)
    probe = counter(limit, seconds, clock)
    pace = 1.5 * seconds / limit
    for i in range(5 * limit):
        clock.now += pace * (1 + (jitter if i % 3 == 0 else 0))
        assert probe.hit("steady")


@settings(max_examples=200, deadline=None)
@given(limit=st.integers(1, 30), times=st.lists(st.floats(0, 10, allow_nan=False), max_size=300))
def test_no_window_ever_holds_more_than_the_limit(limit: int, times: list[float]) -> None:
    clock = Clock(0.0)
    probe = counter(limit, 1.0, clock)
    allowed: dict[int, int] = {}
    for at in sorted(times):
        clock.now = at
        if probe.hit("a"):
            allowed[int(at)] = allowed.get(int(at), 0) + 1
    assert all(count <= limit for count in allowed.values())


def test_callers_idle_for_two_windows_are_dropped() -> None:
    clock = Clock(0.0)
    limit = counter(3, 60, clock)
    for n in range(1000):
        limit.hit(f"ip:10.0.{n // 250}.{n % 250}")
    assert len(limit) == 1000
    clock.now = 61.0
    limit.hit("key:fresh")
    assert len(limit) == 1001  # the last window's callers still count
    clock.now = 121.0
    limit.hit("key:fresh")
    assert len(limit) == 1


def test_a_rule_that_allows_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one request"):
        SlidingWindowCounter(0, 60)
