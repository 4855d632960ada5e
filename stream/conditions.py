"""Whether a rule's condition holds for one sensor, observation by observation, in event time.

Each tracker answers with a `Condition`: FIRING (the rule's condition holds, long enough
where the rule has a duration), HOLDING (it holds but not yet long enough: an open alert
stays open, a closed one stays closed) or CLEAR. `since` is when the condition began, which
is what an alert says ("no water since 14:10"), not when the rule noticed.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from enum import Enum

from stream.rules import AnomalyRule, RateOfChangeRule, StalenessRule, ThresholdRule


class State(Enum):
    CLEAR = "clear"
    HOLDING = "holding"
    FIRING = "firing"


@dataclass(frozen=True)
class Condition:
    state: State
    at: float  # event time of the observation
    since: float | None = None  # when the condition began (FIRING and HOLDING)
    value: float | None = None  # the value that decided it: a reading, a rate per hour, a z-score, silent minutes
    detail: str = ""


@dataclass
class ThresholdTracker:
    rule: ThresholdRule
    since: float | None = None

    def observe(self, value: float, ts: float) -> Condition:
        if not self.rule.breached(value):
            self.since = None
            return Condition(State.CLEAR, ts, value=value)
        if self.since is None or ts < self.since:
            self.since = ts
        held = ts - self.since
        state = State.FIRING if held >= self.rule.for_minutes * 60 else State.HOLDING
        side = f"below {self.rule.below}" if self.rule.below is not None else f"above {self.rule.above}"
        return Condition(state, ts, self.since, value, f"{side} for {held / 60:.0f} min")


@dataclass
class RateTracker:
    """Rate between pane means `over_minutes` apart; needs at least half that span of history."""

    rule: RateOfChangeRule
    means: deque[tuple[float, float]] = field(default_factory=deque)  # (pane start, mean), ascending

    def observe(self, pane: float, mean: float) -> Condition:
        if self.means and self.means[-1][0] == pane:
            self.means[-1] = (pane, mean)
        elif not self.means or pane > self.means[-1][0]:
            self.means.append((pane, mean))
        span = self.rule.over_minutes * 60
        while len(self.means) > 2 and self.means[1][0] <= pane - span:
            self.means.popleft()
        first_pane, first_mean = self.means[0]
        elapsed = pane - first_pane
        if elapsed < span / 2:
            return Condition(State.CLEAR, pane)
        per_hour = (mean - first_mean) / (elapsed / 3600)
        if self.rule.breached(per_hour):
            return Condition(State.FIRING, pane, first_pane, per_hour, f"{per_hour:+.2f} per hour")
        return Condition(State.CLEAR, pane, value=per_hour)


@dataclass
class AnomalyTracker:
    """Robust z-score of the current pane mean against the means of the panes before it."""

    rule: AnomalyRule
    means: deque[tuple[float, float]] = field(default_factory=deque)

    def observe(self, pane: float, mean: float) -> Condition:
        if self.means and self.means[-1][0] == pane:
            self.means.pop()
        baseline = [m for p, m in self.means if p >= pane - self.rule.baseline_minutes * 60]
        self.means.append((pane, mean))
        while self.means and self.means[0][0] < pane - self.rule.baseline_minutes * 60:
            self.means.popleft()
        if len(baseline) < self.rule.min_baseline_panes:
            return Condition(State.CLEAR, pane)
        centre = statistics.median(baseline)
        spread = max(1.4826 * statistics.median(abs(m - centre) for m in baseline), self.rule.min_spread, 1e-9)
        z = (mean - centre) / spread
        if abs(z) >= self.rule.z:
            return Condition(State.FIRING, pane, pane, z, f"z = {z:+.1f} against the last {len(baseline)} minutes")
        return Condition(State.CLEAR, pane, value=z)


@dataclass
class StalenessTracker:
    rule: StalenessRule
    last: float | None = None

    def seen(self, ts: float) -> None:
        if self.last is None or ts > self.last:
            self.last = ts

    def check(self, now: float) -> Condition:
        """`now` is the stream's clock (see `clock.py`), not the wall clock."""
        if self.last is None:
            return Condition(State.CLEAR, now)
        silent = now - self.last
        if silent >= self.rule.silent_minutes * 60:
            return Condition(State.FIRING, now, self.last, silent / 60, f"no reading for {silent / 60:.0f} min")
        return Condition(State.CLEAR, now, value=silent / 60)
