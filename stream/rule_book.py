"""Every rule over every sensor: readings and panes in, alert changes out. Pure.

Threshold rules see each new reading of their metric in event order; rate-of-change and
anomaly rules see each updated pane's mean; staleness rules are checked on the stream's
clock by `tick`. Readings that arrive after later ones of their sensor (a gateway's
buffer) are judged apart, by `replay`: the threshold rules run again over the stored
readings around them, and each condition they reveal that began and cleared in the past
becomes an alert opened and resolved at those times. Severity comes from the rule and
the housing of the sensor's tile at the moment of the change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from stream.alerts import AlertBook, AlertChange, Change, OpenAlert
from stream.conditions import AnomalyTracker, Condition, RateTracker, ThresholdTracker, silence
from stream.lane import Place
from stream.reconcile import Span, Stored, reconcile
from stream.rules import AnomalyRule, RateOfChangeRule, Rule, RuleFile, StalenessRule, ThresholdRule
from vigia.contracts import HousingContext


@dataclass(frozen=True)
class Fired:
    """An alert change with what its row and message need."""

    change: AlertChange
    rule: Rule
    place: Place
    housing: HousingContext


Episode = tuple[Fired, Fired]
"""A condition that began and cleared: its opening and its resolution."""


@dataclass
class Replayed:
    """What late readings showed: past conditions no alert covered (new alerts); the live
    alerts they open or resolve; the alerts whose condition began elsewhere than the live
    readings said (alert id, start); resolved alerts whose times they correct (alert id,
    start, end); and alerts they refute (alert id, event time of the history's end)."""

    episodes: list[Episode] = field(default_factory=list)
    settled: list[Fired] = field(default_factory=list)
    redated: list[tuple[str, float]] = field(default_factory=list)
    corrected: list[tuple[str, float, float]] = field(default_factory=list)
    withdrawn: list[tuple[str, float]] = field(default_factory=list)


class RuleBook:
    def __init__(self, rules: RuleFile, *, update_every: float = 300.0) -> None:
        self.rules = rules
        self.alerts = AlertBook(update_every=update_every)
        self._by_metric: dict[str, list[Rule]] = defaultdict(list)
        for rule in rules.rules:
            if not isinstance(rule, StalenessRule):
                self._by_metric[rule.metric.value].append(rule)
        self._staleness = [r for r in rules.rules if isinstance(r, StalenessRule)]
        # Held only while a condition holds: a sensor whose thresholds are clear costs nothing here.
        self._thresholds: dict[tuple[str, str], ThresholdTracker] = {}
        self._rates: dict[tuple[str, str], RateTracker] = {}
        self._anomalies: dict[tuple[str, str], AnomalyTracker] = {}
        self._seen: dict[str, float] = {}  # sensor -> its newest reading's event time, for the staleness rules
        self._places: dict[str, Place] = {}

    def _apply(
        self,
        rule: Rule,
        sensor_id: str,
        metric: str | None,
        condition: Condition,
        place: Place,
        housing: HousingContext,
    ) -> Fired | None:
        change = self.alerts.apply(
            rule_id=rule.id,
            sensor_id=sensor_id,
            metric=metric,
            condition=condition,
            severity=rule.severity_for(housing),
            clear_seconds=rule.clear_minutes * 60,
        )
        return Fired(change, rule, place, housing) if change is not None else None

    def on_reading(
        self, sensor_id: str, metric: str, value: float, ts: float, place: Place, housing: HousingContext
    ) -> list[Fired]:
        self._places[sensor_id] = place
        last = self._seen.get(sensor_id)
        if last is None or ts > last:
            self._seen[sensor_id] = last = ts
        fired = []
        for rule in self._by_metric.get(metric, ()):
            if isinstance(rule, ThresholdRule):
                key = (sensor_id, rule.id)
                tracker = self._thresholds.get(key) or ThresholdTracker(rule)
                condition = tracker.observe(value, ts)
                self._hold(key, tracker)
                if (found := self._apply(rule, sensor_id, metric, condition, place, housing)) is not None:
                    fired.append(found)
        # A reading is news for a silent sensor: its staleness alert may now clear.
        for silent in self._staleness:
            if (found := self._apply(silent, sensor_id, None, silence(silent, last, ts), place, housing)) is not None:
                fired.append(found)
        return fired

    def _hold(self, key: tuple[str, str], tracker: ThresholdTracker) -> None:
        """Keep a threshold tracker while its condition holds, and only then."""
        if tracker.since is None:
            self._thresholds.pop(key, None)
        else:
            self._thresholds[key] = tracker

    def on_pane(
        self, sensor_id: str, metric: str, pane: float, mean: float, place: Place, housing: HousingContext
    ) -> list[Fired]:
        fired = []
        for rule in self._by_metric.get(metric, ()):
            if isinstance(rule, RateOfChangeRule):
                condition = self._rates.setdefault((sensor_id, rule.id), RateTracker(rule)).observe(pane, mean)
            elif isinstance(rule, AnomalyRule):
                condition = self._anomalies.setdefault((sensor_id, rule.id), AnomalyTracker(rule)).observe(pane, mean)
            else:
                continue
            if (found := self._apply(rule, sensor_id, metric, condition, place, housing)) is not None:
                fired.append(found)
        return fired

    def threshold_spans(self, sensor_id: str, metric: str, until: float) -> tuple[float, float] | None:
        """The stretch of a sensor's earlier readings its threshold trackers and open alerts need,
        ending at `until`: long enough to hold a condition, or to have cleared one."""
        minutes = [
            max(r.for_minutes, r.clear_minutes) for r in self._by_metric.get(metric, ()) if isinstance(r, ThresholdRule)
        ]
        return (until - max(minutes) * 60, until) if minutes else None

    def prime(self, sensor_id: str, metric: str, history: list[tuple[float, float]]) -> None:
        """Rebuild the sensor's threshold trackers from its stored readings, announcing nothing.

        A condition that began before its partition moved here (taps dry for twenty minutes
        of a thirty-minute rule) then fires when it should, not a whole rule duration late;
        and an open alert whose condition had begun to clear resolves when it should, not a
        whole clearing time late (or never, if the condition came back meanwhile).
        """
        for rule in self._by_metric.get(metric, ()):
            if isinstance(rule, ThresholdRule):
                tracker = ThresholdTracker(rule)
                for ts, value in history:
                    self.alerts.resume(sensor_id, rule.id, tracker.observe(value, ts))
                self._hold((sensor_id, rule.id), tracker)

    def replay_span(self, metric: str, first: float, last: float) -> tuple[float, float] | None:
        """The stretch of stored readings that judges late readings from `first` to `last`: from
        a rule duration before them to long enough after for a condition they began to clear."""
        rules = [r for r in self._by_metric.get(metric, ()) if isinstance(r, ThresholdRule)]
        if not rules:
            return None
        before = max(r.for_minutes for r in rules) * 60
        after = max(r.for_minutes + r.clear_minutes for r in rules) * 60
        return first - before, last + after

    def begins_inside(self, metric: str, history: list[tuple[float, float]]) -> bool:
        """Whether the first of these readings already breaches a threshold rule: the condition
        began earlier, and a replay must start further back to date it."""
        return bool(history) and any(
            rule.breached(history[0][1]) for rule in self._by_metric.get(metric, ()) if isinstance(rule, ThresholdRule)
        )

    def replay(
        self,
        sensor_id: str,
        metric: str,
        history: list[tuple[float, float]],
        place: Place,
        housing: HousingContext,
        stored: Mapping[str, Sequence[Stored]],
    ) -> Replayed:
        """The threshold rules of `metric` run again over `history`: the sensor's stored readings
        in event order, from before its late ones to its newest. That is what the live rules
        would have said had the readings come in order; `stored` (by rule) are the alerts
        raised for that stretch so far, which `reconcile` matches with it. The live trackers
        and open alert become what the history ends with.
        """
        found = Replayed()
        if not history:
            return found
        for rule in self._by_metric.get(metric, ()):
            if not isinstance(rule, ThresholdRule):
                continue
            tracker, book = ThresholdTracker(rule), AlertBook(update_every=float("inf"))
            spans: list[tuple[Fired, Fired | None]] = []
            for ts, value in history:
                change = book.apply(
                    rule_id=rule.id,
                    sensor_id=sensor_id,
                    metric=metric,
                    condition=tracker.observe(value, ts),
                    severity=rule.severity_for(housing),
                    clear_seconds=rule.clear_minutes * 60,
                )
                if change is not None and change.change is Change.OPENED:
                    spans.append((Fired(change, rule, place, housing), None))
                elif change is not None and change.change is Change.RESOLVED and spans:
                    spans[-1] = (spans[-1][0], Fired(change, rule, place, housing))
            self._hold((sensor_id, rule.id), tracker)
            key = (sensor_id, rule.id)
            live = self.alerts.open.get(key)
            candidates = [a for a in stored.get(rule.id, ()) if live is None or a.alert_id != live.alert_id]
            if live is not None:
                candidates.append(Stored(live.alert_id, live.opened_at, None, live.resolved_by_hand))
            by_span = {Span(o.change.at, r.change.at if r else None, o.change.alert.alert_id): (o, r) for o, r in spans}
            plan = reconcile(list(by_span), candidates, since=history[0][0])
            for span, alert in plan.kept:
                self._keep(sensor_id, span, alert, book.open.get(key), rule, place, housing, found)
            for span in plan.new:
                opened, resolution = by_span[span]
                if resolution is not None:
                    found.episodes.append((opened, resolution))
                elif (still := book.open.get(key)) is not None:
                    self.alerts.open[key] = still
                    found.settled.append(opened)
            for alert in plan.withdrawn:
                if live is not None and alert.alert_id == live.alert_id:
                    del self.alerts.open[key]
                found.withdrawn.append((alert.alert_id, history[-1][0]))
        return found

    def _keep(
        self,
        sensor_id: str,
        span: Span,
        alert: Stored,
        still: OpenAlert | None,
        rule: ThresholdRule,
        place: Place,
        housing: HousingContext,
        found: Replayed,
    ) -> None:
        """`alert` takes the times of `span`: the live one is redated, and resolved if the span
        ended; one already resolved has its start and end corrected, announcing nothing."""
        key = (sensor_id, rule.id)
        current = self.alerts.open.get(key)
        if current is None or current.alert_id != alert.alert_id:
            if span.resolved_at is not None and (alert.opened_at, alert.resolved_at) != (
                span.opened_at,
                span.resolved_at,
            ):
                found.corrected.append((alert.alert_id, span.opened_at, span.resolved_at))
            return
        if span.opened_at != current.opened_at:
            found.redated.append((current.alert_id, span.opened_at))
        if span.resolved_at is None:
            clear_since = still.clear_since if still is not None else None
            self.alerts.open[key] = replace(current, opened_at=span.opened_at, clear_since=clear_since)
            return
        del self.alerts.open[key]
        if not current.resolved_by_hand:
            ended = replace(current, opened_at=span.opened_at, clear_since=span.resolved_at)
            found.settled.append(Fired(AlertChange(Change.RESOLVED, ended, span.resolved_at), rule, place, housing))

    def forget(self, sensors: set[str]) -> None:
        """Drop every tracker and open alert of these sensors: another worker judges them now."""
        for trackers in (self._thresholds, self._rates, self._anomalies):
            for key in [k for k in trackers if k[0] in sensors]:
                del trackers[key]
        for sensor_id in sensors:
            self._places.pop(sensor_id, None)
            self._seen.pop(sensor_id, None)
        self.alerts.forget(sensors)

    def tick(self, now_of: Callable[[str], float | None], housing_of: Callable[[str], HousingContext]) -> list[Fired]:
        """Staleness for every sensor seen, judged at `now_of(sensor)` on the stream's clock (None:
        not this worker's to judge)."""
        fired = []
        for sensor_id, last in self._seen.items():
            if (now := now_of(sensor_id)) is None:
                continue
            place = self._places[sensor_id]
            housing = housing_of(place.tile_id)
            for rule in self._staleness:
                if (found := self._apply(rule, sensor_id, None, silence(rule, last, now), place, housing)) is not None:
                    fired.append(found)
        return fired
