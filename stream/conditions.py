"""Whether a rule's condition holds for one sensor, observation by observation, in event time.

Each tracker answers with a `Condition`: FIRING (the rule's condition holds, long enough
where the rule has a duration), HOLDING (it holds but not yet long enough: an open alert
stays open, a closed one stays closed) or CLEAR. `since` is when the condition began, which
is what an alert says ("no water since 14:10"), not when the rule noticed.
"""

from __future__ import annotations

import statistics
from array import array
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
    detail: str = ""  # in English; the page says each of these forms in Spanish too (api/web/alerts.js)


@dataclass(slots=True)
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


def _floats() -> array[float]:
    return array("d")


@dataclass(slots=True)
class RateTracker:
    """Rate between pane means `over_minutes` apart; needs at least half that span of history."""

    rule: RateOfChangeRule
    starts: array[float] = field(default_factory=_floats)  # pane starts, ascending
    means: array[float] = field(default_factory=_floats)  # their means

    def observe(self, pane: float, mean: float) -> Condition:
        if self.starts and self.starts[-1] == pane:
            self.means[-1] = mean
        elif not self.starts or pane > self.starts[-1]:
            self.starts.append(pane)
            self.means.append(mean)
        span = self.rule.over_minutes * 60
        while len(self.starts) > 2 and self.starts[1] <= pane - span:
            del self.starts[0], self.means[0]
        first_pane, first_mean = self.starts[0], self.means[0]
        elapsed = pane - first_pane
        if elapsed < span / 2:
            return Condition(State.CLEAR, pane)
        per_hour = (mean - first_mean) / (elapsed / 3600)
        if self.rule.breached(per_hour):
            return Condition(State.FIRING, pane, first_pane, per_hour, f"{per_hour:+.2f} per hour")
        return Condition(State.CLEAR, pane, value=per_hour)


@dataclass(slots=True)
class AnomalyTracker:
    """Robust z-score of the current pane mean against the means of the panes before it."""

    rule: AnomalyRule
    starts: array[float] = field(default_factory=_floats)  # pane starts, ascending
    means: array[float] = field(default_factory=_floats)  # their means

    def observe(self, pane: float, mean: float) -> Condition:
        if self.starts and self.starts[-1] == pane:
            self.starts.pop()
            self.means.pop()
        oldest = pane - self.rule.baseline_minutes * 60
        baseline = [m for p, m in zip(self.starts, self.means, strict=True) if p >= oldest]
        self.starts.append(pane)
        self.means.append(mean)
        while self.starts and self.starts[0] < oldest:
            del self.starts[0], self.means[0]
        if len(baseline) < self.rule.min_baseline_panes:
            return Condition(State.CLEAR, pane)
        centre = statistics.median(baseline)
        spread = max(1.4826 * statistics.median(abs(m - centre) for m in baseline), self.rule.min_spread, 1e-9)
        z = (mean - centre) / spread
        if abs(z) >= self.rule.z:
            return Condition(State.FIRING, pane, pane, z, f"z = {z:+.1f} against the last {len(baseline)} minutes")
        return Condition(State.CLEAR, pane, value=z)


def silence(rule: StalenessRule, last: float | None, now: float) -> Condition:
    """Whether a sensor last heard from at `last` is silent at `now`, the stream's clock (see
    `clock.py`), not the wall clock."""
    if last is None:
        return Condition(State.CLEAR, now)
    silent = now - last
    if silent >= rule.silent_minutes * 60:
        return Condition(State.FIRING, now, last, silent / 60, f"no reading for {silent / 60:.0f} min")
    return Condition(State.CLEAR, now, value=silent / 60)
