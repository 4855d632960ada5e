"""Property-based tests of rule evaluation: a threshold fires exactly when the condition has held long enough."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stream.conditions import State, ThresholdTracker
from stream.rules import ThresholdRule
from vigia.contracts import Metric


def rule(for_minutes: float) -> ThresholdRule:
    return ThresholdRule(
        id="dry", kind="threshold", metric=Metric.WATER_PRESSURE, below=0.2, for_minutes=for_minutes,
        title={"es": "Sin agua", "en": "No water"},
    )  # fmt: skip


def expected_states(samples: list[tuple[float, float]], for_minutes: float) -> list[tuple[State, float | None]]:
    """The reference: walk back over the run of breached samples that ends at each one."""
    out: list[tuple[State, float | None]] = []
    for i, (value, ts) in enumerate(samples):
        if value >= 0.2:
            out.append((State.CLEAR, None))
            continue
        start = i
        while start > 0 and samples[start - 1][0] < 0.2:
            start -= 1
        since = min(t for _, t in samples[start : i + 1])
        out.append((State.FIRING if ts - since >= for_minutes * 60 else State.HOLDING, since))
    return out


readings = st.lists(
    st.tuples(st.sampled_from([0.0, 0.1, 0.19, 0.2, 0.5, 1.4]), st.integers(min_value=1, max_value=600)),
    max_size=80,
)


@given(steps=readings, for_minutes=st.sampled_from([1, 5, 30, 60]))
def test_a_threshold_fires_exactly_when_it_has_held_for_its_duration(
    steps: list[tuple[float, int]], for_minutes: int
) -> None:
    samples, ts = [], 1_700_000_000.0
    for value, gap in steps:  # in event-time order, gaps of a second to ten minutes
        ts += gap
        samples.append((value, ts))
    tracker = ThresholdTracker(rule(for_minutes))
    got = [tracker.observe(value, at) for value, at in samples]
    assert [(c.state, c.since) for c in got] == expected_states(samples, for_minutes)
    for condition, (value, _) in zip(got, samples, strict=True):
        assert condition.value == value


@given(value=st.floats(min_value=0.2, max_value=10), ts=st.floats(min_value=0, max_value=2e9))
def test_a_value_at_or_above_the_limit_never_holds(value: float, ts: float) -> None:
    tracker = ThresholdTracker(rule(30))
    tracker.observe(0.0, ts - 3600)
    assert tracker.observe(value, ts).state is State.CLEAR
    assert tracker.since is None
