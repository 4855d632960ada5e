import random
import statistics

import pytest

from stream.panes import (
    Pane,
    is_late,
    mad,
    pane_start,
    sample_key,
    summarise,
)


def filled(values: list[tuple[float, float, int]], k: int = 32) -> Pane:
    pane = Pane()
    for value, ts, key in values:
        pane.add(value, ts, key, k)
    return pane


@pytest.mark.parametrize(
    ("ts", "start"),
    [(0.0, 0.0), (59.999, 0.0), (60.0, 60.0), (1_700_000_059.5, 1_700_000_040.0)],
)
def test_pane_boundaries(ts: float, start: float) -> None:
    assert pane_start(ts, 60) == start


def test_statistics_and_last_by_event_time_not_arrival() -> None:
    pane = filled([(3.0, 10.0, 5), (1.0, 30.0, 9), (7.0, 20.0, 1)])
    s = summarise([pane])
    assert (s.count, s.min, s.max, s.mean) == (3, 1.0, 7.0, pytest.approx(11 / 3))
    assert (s.last, s.last_ts) == (1.0, 30.0)


def test_order_does_not_matter() -> None:
    rng = random.Random(3)
    readings = [(rng.gauss(2, 1), float(i), rng.getrandbits(60)) for i in range(200)]
    shuffled = readings[:]
    rng.shuffle(shuffled)
    a, b = summarise([filled(readings)]), summarise([filled(shuffled)])
    assert (a.count, a.min, a.max, a.last, a.last_ts, a.mad) == (b.count, b.min, b.max, b.last, b.last_ts, b.mad)
    assert a.mean == pytest.approx(b.mean, rel=1e-12)  # float sums differ only in the last bits


def test_mad_is_exact_within_the_sample_and_robust_to_a_spike() -> None:
    values = [1.0, 1.1, 0.9, 1.0, 1.2, 0.8, 50.0]
    pane = filled([(v, float(i), i) for i, v in enumerate(values)])
    s = summarise([pane])
    centre = statistics.median(values)
    assert s.mad == statistics.median(abs(v - centre) for v in values)
    assert s.mad < 0.2  # one spike hardly moves it
    assert mad([]) == 0.0


def test_sample_is_the_k_lowest_keys_whatever_the_order() -> None:
    pane = filled([(float(key), 0.0, key) for key in [9, 3, 7, 1, 8, 2]], k=3)
    assert pane.sample == [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert pane.count == 6


def test_a_hopping_window_composes_its_panes() -> None:
    panes = [filled([(float(i), i * 60.0 + 1, i)]) for i in range(15)]
    s = summarise(panes)
    assert (s.count, s.min, s.max, s.last) == (15, 0.0, 14.0, 14.0)
    assert s.mean == pytest.approx(7.0)
    assert s.mad == 4.0
    with pytest.raises(ValueError, match="no readings"):
        summarise([Pane(), Pane()])


def test_lateness() -> None:
    assert not is_late(100.0, None, 30)
    assert not is_late(80.0, 100.0, 30)
    assert is_late(69.0, 100.0, 30)


def test_sample_key_reads_the_reading_id() -> None:
    assert sample_key("00000000-0000-0000-0000-000000000001") == 0
    assert sample_key("ffffffff-ffff-ffff-ffff-ffffffffffff") == 2**60 - 1


def test_a_sample_packed_for_the_database_unpacks_to_itself() -> None:
    from stream.panes import pack_sample, unpack_sample

    sample = [(3, 1.5), (2**59, -0.25), (7, float("1e300"))]
    assert unpack_sample(pack_sample(sample)) == sample
    assert unpack_sample(pack_sample([])) == []
    assert unpack_sample(None) == []
