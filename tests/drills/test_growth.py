"""The soak's verdicts on memory and lag."""

from __future__ import annotations

from drills.growth import EDGE_SAMPLES, growth, lag


def test_memory_is_judged_after_the_warm_up() -> None:
    samples = [(float(t), 100.0 if t < 60 else 500.0) for t in range(0, 600, 10)]
    got = growth(samples, warmup_s=60)
    assert got is not None
    assert (got.start_mib, got.end_mib, got.ratio) == (500.0, 500.0, 0.0)


def test_a_leak_shows_as_growth() -> None:
    samples = [(float(t), 400.0 + t / 10) for t in range(0, 1800, 10)]
    got = growth(samples, warmup_s=300)
    assert got is not None
    assert got.ratio > 0.3
    assert got.peak_mib == max(mib for _, mib in samples)


def test_one_spike_at_the_end_decides_nothing() -> None:
    samples = [(float(t), 400.0) for t in range(0, 600, 10)] + [(600.0, 900.0)]
    got = growth(samples, warmup_s=0)
    assert got is not None
    assert got.ratio == 0.0
    assert got.peak_mib == 900.0


def test_too_few_samples_give_no_verdict() -> None:
    assert growth([(float(t), 1.0) for t in range(2 * EDGE_SAMPLES - 1)], warmup_s=0) is None


def test_steady_lag_is_bounded() -> None:
    got = lag([(float(t), 1500 + (t % 3) * 100) for t in range(0, 1800, 10)], warmup_s=300)
    assert got is not None
    assert got.bounded(2000, limit_s=10)


def test_climbing_lag_is_not_bounded_even_under_the_limit() -> None:
    got = lag([(float(t), t * 5) for t in range(0, 1800, 10)], warmup_s=300)
    assert got is not None
    assert got.seconds(2000) < 10
    assert not got.bounded(2000, limit_s=10)


def test_one_slow_moment_in_the_last_third_is_not_a_climb() -> None:
    samples = [(float(t), 1500) for t in range(0, 1800, 10)]
    samples[-4] = (samples[-4][0], 15_000)  # 7.5 s behind once, under the limit
    got = lag(samples, warmup_s=300)
    assert got is not None
    assert got.last_third_peak == 15_000
    assert got.bounded(2000, limit_s=10)


def test_lag_beyond_the_limit_is_not_bounded() -> None:
    got = lag([(float(t), 30_000) for t in range(0, 600, 10)], warmup_s=0)
    assert got is not None
    assert not got.bounded(2000, limit_s=10)
