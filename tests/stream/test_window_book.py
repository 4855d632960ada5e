import pytest

from stream.lane import Place
from stream.panes import Pane
from stream.window_book import Folded, WindowBook

KEY = ("sjl-water-01", "water_pressure")
PLACE = Place("sjl", "17/1/2")


def book() -> WindowBook:
    return WindowBook(pane=60, window=900, lateness=120)


def fold(b: WindowBook, readings: list[tuple[float, float]]) -> Folded:
    out = Folded()
    for i, (ts, value) in enumerate(readings):
        b.fold(KEY, PLACE, value=value, ts=ts, sample_key=int(ts * 1000) + i, reading_id=f"r{ts}", out=out)
    return out


def test_readings_fold_into_their_pane_and_rows_follow() -> None:
    b = book()
    out = fold(b, [(600.0, 1.0), (630.0, 3.0), (660.0, 5.0)])
    rows = b.pane_rows(out)
    assert [(r.start, r.summary.count, r.summary.mean) for r in rows] == [(600.0, 2, 2.0), (660.0, 1, 5.0)]
    assert rows[0].place == PLACE


def test_hopping_windows_end_at_each_touched_pane_and_hold_fifteen_minutes() -> None:
    b = book()
    fold(b, [(m * 60.0, float(m)) for m in range(20)])
    out = fold(b, [(20 * 60.0, 20.0)])
    (row,) = b.hopping_rows(out)
    assert row.end == 21 * 60.0
    assert row.summary.count == 15  # minutes 6..20
    assert row.summary.min == 6.0
    assert row.summary.last == 20.0


def test_a_reading_within_lateness_updates_the_later_windows_too() -> None:
    b = book()
    fold(b, [(m * 60.0, 1.0) for m in range(10)])
    out = fold(b, [(7 * 60.0 + 30, 9.0)])  # two and a half minutes behind the newest: allowed
    assert out.late == []
    ends = [r.end for r in b.hopping_rows(out)]
    assert ends == [8 * 60.0, 9 * 60.0, 10 * 60.0]
    assert all(r.summary.max == 9.0 for r in b.hopping_rows(out))


def test_late_readings_are_reported_not_folded() -> None:
    b = book()
    fold(b, [(1000.0, 1.0)])
    out = fold(b, [(1000.0 - 121, 50.0)])
    assert out.late == ["r879.0"]
    assert not out.touched
    assert max(p.max for p in b.panes(KEY).values()) == 1.0


def test_loaded_panes_continue_where_they_were() -> None:
    first = book()
    fold(first, [(600.0, 1.0), (610.0, 2.0)])
    second = book()
    second.load(KEY, PLACE, {600.0: first.panes(KEY)[600.0]}, newest=610.0)
    out = fold(second, [(620.0, 3.0)])
    (row,) = second.pane_rows(out)
    assert row.summary.count == 3
    assert row.summary.last == 3.0


def test_eviction_keeps_what_a_reading_can_still_reach() -> None:
    b = book()
    fold(b, [(m * 60.0, 1.0) for m in range(40)])
    assert b.evict() > 0
    assert min(b.panes(KEY)) >= 39 * 60 - 900 - 120 - 60
    assert len(b.panes(KEY)) <= 15 + 4


def test_window_must_be_whole_panes() -> None:
    with pytest.raises(ValueError, match="whole number"):
        WindowBook(pane=60, window=1000, lateness=0)


def test_a_reading_within_the_horizon_refolds_its_closed_pane_and_windows() -> None:
    b = WindowBook(pane=60, window=900, lateness=120, horizon=3600)
    fold(b, [(m * 60.0, 1.0) for m in range(60)])
    b.evict()
    assert min(b.panes(KEY)) > 30 * 60  # minute 30 is no longer in memory
    first, last = b.reach(30 * 60.0 + 5)
    assert (first, last) == (16 * 60.0, 44 * 60.0)
    stored = book()  # the database's copy: every pane, none evicted
    fold(stored, [(m * 60.0, 1.0) for m in range(60)])
    b.adopt(KEY, {s: p for s, p in stored.panes(KEY).items() if first <= s <= last})
    out = fold(b, [(30 * 60.0 + 5, 9.0)])
    assert out.late == []
    assert out.touched == set()
    assert out.refolded == {(KEY, 30 * 60.0)}
    (row,) = b.pane_rows(out)
    assert (row.start, row.summary.count, row.summary.max) == (30 * 60.0, 2, 9.0)
    windows = b.hopping_rows(out)
    assert [w.end for w in windows] == [m * 60.0 for m in range(31, 46)]  # the fifteen windows holding minute 30
    assert all(w.summary.count == 16 and w.summary.max == 9.0 for w in windows)
    assert b.newest(KEY) == 59 * 60.0  # a late reading does not move the sensor's clock


def test_adopted_panes_never_replace_what_memory_holds() -> None:
    b = book()
    fold(b, [(600.0, 1.0)])
    held = b.panes(KEY)[600.0]
    b.adopt(KEY, {600.0: Pane(count=7), 540.0: Pane(count=3)})
    assert b.panes(KEY)[600.0] == held
    assert b.panes(KEY)[540.0].count == 3


def test_beyond_the_horizon_a_reading_is_only_reported() -> None:
    b = WindowBook(pane=60, window=900, lateness=120, horizon=3600)
    fold(b, [(7200.0, 1.0)])
    out = fold(b, [(7200.0 - 3601, 5.0)])
    assert out.late == ["r3599.0"]
    assert not out.panes()
