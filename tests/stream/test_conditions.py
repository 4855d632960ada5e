import random

from stream.conditions import AnomalyTracker, RateTracker, State, ThresholdTracker, silence
from stream.rules import AnomalyRule, RateOfChangeRule, StalenessRule, ThresholdRule

TITLE = {"es": "x", "en": "y"}
OUTAGE = ThresholdRule(
    id="water-outage", kind="threshold", metric="water_pressure", below=0.2, for_minutes=30, title=TITLE
)


def test_threshold_holds_then_fires_after_its_duration_and_dates_from_the_start() -> None:
    tracker = ThresholdTracker(OUTAGE)
    assert tracker.observe(1.5, 0).state is State.CLEAR
    assert tracker.observe(0.05, 600).state is State.HOLDING
    assert tracker.observe(0.0, 600 + 29 * 60).state is State.HOLDING
    fired = tracker.observe(0.0, 600 + 30 * 60)
    assert fired.state is State.FIRING
    assert fired.since == 600
    assert tracker.observe(1.2, 600 + 31 * 60).state is State.CLEAR
    assert tracker.observe(0.0, 600 + 32 * 60).since == 600 + 32 * 60  # a new outage starts afresh


def test_threshold_above() -> None:
    rule = ThresholdRule(id="flood", kind="threshold", metric="flood_level", above=0.3, for_minutes=0.01, title=TITLE)
    tracker = ThresholdTracker(rule)
    assert tracker.observe(0.3, 0).state is State.CLEAR
    tracker.observe(0.31, 10)
    assert tracker.observe(0.5, 11).state is State.FIRING


def test_rate_of_change_needs_history_then_fires_on_a_steady_rise() -> None:
    rule = RateOfChangeRule(
        id="tilt", kind="rate_of_change", metric="tilt", rise_per_hour=0.2, over_minutes=30, title=TITLE
    )
    tracker = RateTracker(rule)
    assert tracker.observe(0, 1.0).state is State.CLEAR  # no history yet
    flat = [tracker.observe(m * 60, 1.0) for m in range(1, 40)]
    assert all(c.state is State.CLEAR for c in flat)
    rising = [tracker.observe(m * 60, 1.0 + (m - 39) * 0.01) for m in range(40, 80)]  # 0.6 degrees per hour
    assert rising[-1].state is State.FIRING
    assert rising[-1].value is not None
    assert abs(rising[-1].value - 0.6) < 0.01
    assert rising[0].state is State.CLEAR


def test_rate_of_change_updates_the_current_pane_in_place() -> None:
    rule = RateOfChangeRule(id="t", kind="rate_of_change", metric="tilt", fall_per_hour=1, over_minutes=10, title=TITLE)
    tracker = RateTracker(rule)
    tracker.observe(0, 5.0)
    tracker.observe(600, 5.0)
    assert tracker.observe(600, 3.0).state is State.FIRING  # -12 per hour
    assert len(tracker.means) == 2


def test_anomaly_fires_on_a_jump_against_the_own_baseline_only() -> None:
    rule = AnomalyRule(id="a", kind="anomaly", metric="water_pressure", z=5, min_baseline_panes=10, title=TITLE)
    tracker = AnomalyTracker(rule)
    rng = random.Random(1)
    baseline = [tracker.observe(m * 60, rng.gauss(1.5, 0.03)) for m in range(30)]
    assert all(c.state is State.CLEAR for c in baseline)
    jump = tracker.observe(30 * 60, 0.4)
    assert jump.state is State.FIRING
    assert jump.value is not None
    assert jump.value < -5
    assert tracker.observe(30 * 60, 1.5).state is State.CLEAR  # the same pane, re-read: back to normal


def test_anomaly_spread_floor_keeps_a_flat_sensor_quiet() -> None:
    rule = AnomalyRule(
        id="a", kind="anomaly", metric="water_pressure", min_baseline_panes=5, min_spread=0.05, title=TITLE
    )
    tracker = AnomalyTracker(rule)
    for m in range(10):
        tracker.observe(m * 60, 1.0)
    assert tracker.observe(600, 1.1).state is State.CLEAR


def test_staleness() -> None:
    rule = StalenessRule(id="off", kind="staleness", silent_minutes=15, title=TITLE)
    assert silence(rule, None, 1000).state is State.CLEAR  # never seen: nothing to say
    assert silence(rule, 1000, 1000 + 14 * 60).state is State.CLEAR
    fired = silence(rule, 1000, 1000 + 15 * 60)
    assert fired.state is State.FIRING
    assert fired.since == 1000
