import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stream.lane import Lane, Place
from stream.panes import Pane, Summary, summarise

PLACE = Place("d", "17/1/1")

readings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=9),  # pane index
        st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
        st.floats(min_value=0, max_value=59.5),  # seconds into the pane
        st.integers(min_value=0, max_value=2**60),  # sample key
    ),
    max_size=120,
    unique_by=lambda row: row[3],  # a sample key is a hash of the reading's id
)


def reference(rows: list[tuple[int, float, float, int]], k: int) -> dict[float, Pane]:
    panes: dict[float, Pane] = {}
    for index, value, offset, key in rows:
        panes.setdefault(index * 60.0, Pane()).add(value, index * 60.0 + offset, key, k)
    return panes


def packed(rows: list[tuple[int, float, float, int]], k: int) -> Lane:
    lane = Lane(PLACE)
    for index, value, offset, key in rows:
        lane.add(index * 60.0, value, index * 60.0 + offset, key, k)
    return lane


def same(a: Pane, b: Pane) -> None:
    assert (a.count, a.min, a.max, a.last, a.last_ts, a.last_key, a.sample) == (
        b.count, b.min, b.max, b.last, b.last_ts, b.last_key, b.sample,
    )  # fmt: skip
    assert math.isclose(a.sum, b.sum, rel_tol=1e-9, abs_tol=1e-6)


def close(a: Summary, b: Summary) -> None:
    assert (a.count, a.min, a.max, a.last, a.last_ts, a.mad) == (b.count, b.min, b.max, b.last, b.last_ts, b.mad)
    assert math.isclose(a.mean, b.mean, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=200)
@given(readings, st.sampled_from([1, 3, 32]))
def test_a_lane_keeps_what_panes_keep_whatever_the_order(rows: list[tuple[int, float, float, int]], k: int) -> None:
    want, lane = reference(rows, k), packed(rows, k)
    assert lane.starts() == sorted(want)
    assert len(lane) == len(want)
    for start, pane in want.items():
        got = lane.pane(start)
        assert got is not None
        same(got, pane)


@settings(max_examples=200)
@given(readings, st.integers(min_value=0, max_value=9), st.integers(min_value=0, max_value=9))
def test_a_window_over_a_lane_is_the_summary_of_its_panes(
    rows: list[tuple[int, float, float, int]], first: int, span: int
) -> None:
    want, lane = reference(rows, 32), packed(rows, 32)
    members = [p for s, p in want.items() if first * 60 <= s <= (first + span) * 60]
    got = lane.summary(first * 60.0, (first + span) * 60.0)
    if not members:
        assert got is None
    else:
        assert got is not None
        close(got, summarise(members))


@settings(max_examples=100)
@given(readings)
def test_a_stored_pane_continues_where_it_was(
    rows: list[tuple[int, float, float, int]],
) -> None:
    before, after = rows[: len(rows) // 2], rows[len(rows) // 2 :]
    stored = reference(before, 32)
    lane = Lane(PLACE)
    for start, pane in stored.items():
        lane.put(start, pane)
    for index, value, offset, key in after:
        lane.add(index * 60.0, value, index * 60.0 + offset, key)
    for index, value, offset, key in after:
        stored.setdefault(index * 60.0, Pane()).add(value, index * 60.0 + offset, key)
    assert lane.starts() == sorted(stored)
    for start, pane in stored.items():
        got = lane.pane(start)
        assert got is not None
        same(got, pane)


def test_a_pane_held_is_not_replaced_by_a_stored_one_when_kept() -> None:
    lane = Lane(PLACE)
    lane.add(60.0, 1.0, 61.0, 5)
    lane.put(60.0, Pane(count=7, min=0, max=9, sum=20, last=3, last_ts=70, last_key=1), keep=True)
    lane.put(0.0, Pane(count=3, min=0, max=2, sum=3, last=2, last_ts=50, last_key=1), keep=True)
    assert lane.pane(60.0) == Pane(1, 1.0, 1.0, 1.0, 1.0, 61.0, 5, [(5, 1.0)])
    assert lane.pane(0.0) == Pane(3, 0.0, 2.0, 3.0, 2.0, 50.0, 1, [])
    lane.put(60.0, Pane(count=7, min=0, max=9, sum=20, last=3, last_ts=70, last_key=1))
    assert lane.pane(60.0) == Pane(7, 0.0, 9.0, 20.0, 3.0, 70.0, 1, [])


def test_dropping_old_panes_keeps_the_rest_whole() -> None:
    lane = packed([(i, float(i), 1.0, i) for i in range(10)] + [(9, 5.0, 2.0, 99)], 32)
    assert lane.drop_before(6 * 60.0) == 6
    assert lane.starts() == [360.0, 420.0, 480.0, 540.0]
    assert lane.pane(540.0) == Pane(2, 5.0, 9.0, 14.0, 5.0, 542.0, 99, [(9, 9.0), (99, 5.0)])
    assert lane.drop_before(0.0) == 0


def test_an_empty_stored_pane_takes_no_room() -> None:
    lane = Lane(PLACE)
    lane.put(0.0, Pane())
    assert lane.starts() == []
    assert lane.summary(0.0, 600.0) is None


def test_a_pane_of_one_reading_is_five_numbers() -> None:
    lane = packed([(i, 1.0, 1.0, i) for i in range(17)], 32)
    assert (len(lane.floats), len(lane.ints)) == (17 * 3, 17 * 2)  # start, value, time; head, key


@pytest.mark.parametrize("k", [1, 2])
def test_a_sample_keeps_the_lowest_keys_once_full(k: int) -> None:
    lane = packed([(0, float(v), float(v), key) for v, key in enumerate([50, 10, 40, 20, 30])], k)
    pane = lane.pane(0.0)
    assert pane is not None
    assert pane.sample == [(10, 1.0), (20, 3.0)][:k]
    assert (pane.count, pane.last, pane.last_key) == (5, 4.0, 30)
