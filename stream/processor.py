"""One batch of new readings through windows and rules: what the stream worker does, without I/O.

The Faust agent and the plain consumer of the benchmark both call this, between the
sink's insert (which says which readings are new) and its upserts. Readings are taken in
event order, so a sensor's rules see its readings as they happened even when a SenML pack
or a re-delivery mixed them. Readings later than the lateness but within the horizon are
re-folded into the windows they belong to (`refold_reach` says which stored panes to load
first) and judged by the rules apart (`replay_spans`, then `revealed`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from stream.alerts import OpenAlert, OpenAlerts
from stream.clock import StreamClock
from stream.lane import Place
from stream.panes import Pane, sample_key
from stream.reconcile import Stored
from stream.rule_book import Fired, Replayed, RuleBook
from stream.rules import RuleFile
from stream.window_book import Fold, Folded, HoppingRow, Key, PaneRow, WindowBook
from vigia.contracts import HousingContext
from vigia.reading_records import FlatReading

HousingOf = Callable[[str], HousingContext]
BY_EVENT_TIME = attrgetter("ts")
NO_PARTITION = -1  # sensors whose partition nobody said (pure use, the benchmarks)


@dataclass
class Outcome:
    panes: list[tuple[PaneRow, HousingContext]] = field(default_factory=list)
    hopping: list[tuple[HoppingRow, HousingContext]] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    late: list[FlatReading] = field(default_factory=list)  # beyond the horizon: stored, not folded
    refolded: list[FlatReading] = field(default_factory=list)  # behind the lateness: their closed windows written again
    folded: int = 0
    evicted: int = 0  # panes no later reading can reach, dropped from memory


def key_of(reading: FlatReading) -> Key:
    return (reading.sensor_id, reading.metric)


class Processor:
    def __init__(self, rules: RuleFile, *, pane: float, window: float, lateness: float, horizon: float = 0.0) -> None:
        self.windows = WindowBook(pane=pane, window=window, lateness=lateness, horizon=horizon)
        self.rules = RuleBook(rules)
        self.clocks: dict[int, StreamClock] = {}  # one per readings partition: see `tick`
        self.partition_of: dict[str, int] = {}  # sensor -> the readings partition it arrives on
        self.owned: set[int] | None = None  # partitions this worker holds; None: every one
        self._alerts_loaded: set[str] = set()  # sensors whose open alerts came from the database

    def note_partitions(self, partitions: dict[str, int]) -> None:
        """Which readings partition each sensor of a batch arrived on (records are keyed by sensor)."""
        self.partition_of.update(partitions)

    def own(self, partitions: set[int]) -> set[str]:
        """This worker now holds `partitions`: forget every sensor of the others; returns them.

        Their windows, rule trackers and open alerts belong to the worker that took the
        partitions, which loads them from the database; should a sensor come back here, its
        state is loaded again before its first reading is folded.
        """
        self.owned = set(partitions)
        gone = {sensor for sensor, partition in self.partition_of.items() if partition not in self.owned}
        self.clocks = {p: clock for p, clock in self.clocks.items() if p in self.owned or p == NO_PARTITION}
        if gone:
            self.windows.forget_sensors(gone)
            self.rules.forget(gone)
            self._alerts_loaded -= gone
            for sensor in gone:
                del self.partition_of[sensor]
        return gone

    def judges(self, sensor_id: str) -> bool:
        """Whether this worker decides if the sensor went silent: the one holding its partition."""
        if self.owned is None:
            return True
        partition = self.partition_of.get(sensor_id)
        return partition is not None and partition in self.owned

    def history_spans(self, readings: Sequence[FlatReading], sensors: set[str]) -> list[tuple[str, str, float, float]]:
        """(sensor, metric, since, until): the stored readings that rebuild the rule trackers of
        `sensors`, new here, up to their first reading in this batch."""
        first: dict[Key, float] = {}
        for r in readings:
            if r.sensor_id in sensors:
                key, ts = key_of(r), r.ts
                first[key] = min(ts, first.get(key, ts))
        spans = []
        for (sensor, metric), until in sorted(first.items()):
            span = self.rules.threshold_spans(sensor, metric, until)
            if span is not None:
                spans.append((sensor, metric, *span))
        return spans

    def prime(self, history: dict[Key, list[tuple[float, float]]]) -> None:
        """Rebuild rule trackers from stored readings (see `history_spans`)."""
        for (sensor, metric), readings in history.items():
            self.rules.prime(sensor, metric, readings)

    def new_sensors(self, readings: Sequence[FlatReading]) -> set[str]:
        """Sensors whose open alerts and rule trackers must be loaded before their readings are folded."""
        return {r.sensor_id for r in readings} - self._alerts_loaded

    def unknown_keys(self, readings: Sequence[FlatReading]) -> set[Key]:
        """Sensors and metrics whose windows in flight must be loaded from the database first."""
        return {key_of(r) for r in readings if not self.windows.knows(key_of(r))}

    def restore_open_alerts(self, sensors: set[str], alerts: list[OpenAlert]) -> None:
        """The alerts the database holds open for `sensors`, so this worker resolves them rather than
        opening twins (after a restart, or when another worker opened them before a partition moved)."""
        self.rules.alerts.restore(alerts)
        self._alerts_loaded |= sensors

    def snapshot(self) -> OpenAlerts:
        """The open alerts, to put back if the batch's transaction fails."""
        return self.rules.alerts.snapshot()

    def rollback(self, readings: Sequence[FlatReading], snapshot: OpenAlerts) -> None:
        """Forget what a failed batch changed; windows reload from the database on the retry."""
        self.windows.forget({key_of(r) for r in readings})
        self.rules.alerts.put_back(snapshot)
        self._alerts_loaded -= {r.sensor_id for r in readings}  # loaded again on the retry

    def resolved_by_hand(self, alert_ids: set[str]) -> None:
        """People resolved these: their conditions are followed in silence until they clear."""
        self.rules.alerts.resolved_by_hand(alert_ids)

    def rollback_tick(self, snapshot: OpenAlerts) -> None:
        """Forget what a staleness check that did not become durable changed."""
        self.rules.alerts.put_back(snapshot)

    def load_windows(self, key: Key, place: Place, panes: dict[float, Pane], newest: float | None) -> None:
        """A sensor's windows in flight, from the database, before its first reading here is folded."""
        self.windows.load(key, place, panes, newest)

    def history_needed(self, readings: Sequence[FlatReading], unknown: set[Key]) -> float:
        """How far back (event time) the windows of `unknown` keys must be loaded for these readings."""
        w = self.windows
        oldest = min(r.ts for r in readings if key_of(r) in unknown)
        return oldest - w.window - w.lateness - w.pane

    def refold_reach(self, readings: Sequence[FlatReading]) -> list[tuple[Key, float, float]]:
        """(key, first pane, last pane) of stored panes to load before `process` can re-fold the
        late readings among these.

        `process` folds a batch in event-time order, so a reading of the batch is never behind
        the ones folded before it: it is re-folded only if it is behind its key's newest
        before the batch. (Measured against the batch's own newest, a backlog of in-order
        readings spanning more than the lateness had panes loaded that nothing re-folded.)
        """
        w = self.windows
        reach: dict[Key, tuple[float, float]] = {}
        for reading in readings:
            key, ts = key_of(reading), reading.ts
            held = w.newest(key)
            if held is not None and held - w.horizon <= ts < held - w.lateness:
                first, last = w.reach(ts)
                if key in reach:
                    first, last = min(first, reach[key][0]), max(last, reach[key][1])
                reach[key] = (first, last)
        return [(key, first, last) for key, (first, last) in sorted(reach.items())]

    def adopt_panes(self, loaded: dict[Key, dict[float, Pane]]) -> None:
        """Stored panes `refold_reach` asked for."""
        for key, panes in loaded.items():
            self.windows.adopt(key, panes)

    def replay_spans(self, refolded: Sequence[FlatReading]) -> list[tuple[str, str, float, float]]:
        """(sensor, metric, since, until): the stored readings that judge re-folded late readings."""
        spans: dict[Key, tuple[float, float]] = {}
        for r in refolded:
            key, ts = key_of(r), r.ts
            first, last = spans.get(key, (ts, ts))
            spans[key] = (min(first, ts), max(last, ts))
        found = []
        for (sensor, metric), (first, last) in sorted(spans.items()):
            span = self.rules.replay_span(metric, first, last)
            if span is not None:  # on to the sensor's newest reading: the replay ends where the live rules stand
                newest = self.windows.newest((sensor, metric))
                found.append((sensor, metric, span[0], max(span[1], (last if newest is None else newest) + 1)))
        return found

    def reach_back(
        self, spans: Sequence[tuple[str, str, float, float]], history: dict[Key, list[tuple[float, float]]]
    ) -> list[tuple[str, str, float, float]]:
        """The spans to read again from twice as far back: those whose history begins inside a
        condition, so its start is not yet seen; never beyond the horizon."""
        again = []
        for sensor, metric, since, until in spans:
            if not self.rules.begins_inside(metric, history.get((sensor, metric), [])):
                continue
            newest = self.windows.newest((sensor, metric))
            floor = (since if newest is None else newest) - self.windows.horizon
            if since > floor:
                again.append((sensor, metric, max(floor, since - (until - since)), until))
        return again

    def revealed(
        self,
        history: dict[Key, list[tuple[float, float]]],
        stored: Mapping[str, Mapping[str, Sequence[Stored]]],
        housing_of: HousingOf,
    ) -> Replayed:
        """What late readings change in the alerts (see `RuleBook.replay`): the stored readings of
        `replay_spans` include them, and `stored` holds the alerts raised for that history so
        far, by sensor and rule."""
        found = Replayed()
        for (sensor, metric), readings in sorted(history.items()):
            place = self.windows.place((sensor, metric))
            got = self.rules.replay(sensor, metric, readings, place, housing_of(place.tile_id), stored.get(sensor, {}))
            found.episodes += got.episodes
            found.settled += got.settled
            found.redated += got.redated
            found.corrected += got.corrected
            found.withdrawn += got.withdrawn
        return found

    def process(self, new: Sequence[FlatReading], housing_of: HousingOf, wall: float) -> Outcome:
        out = Outcome()
        folded = Folded()
        places: dict[tuple[str, str], Place] = {}  # one label per tile, not one per reading
        for reading in sorted(new, key=BY_EVENT_TIME):
            key = (reading.sensor_id, reading.metric)
            where = (reading.district, reading.tile_id)
            place = places.get(where) or places.setdefault(where, Place(*where))
            ts = reading.ts
            fold = self.windows.fold(
                key, place, value=reading.value, ts=ts, sample_key=sample_key(reading.reading_id),
                reading_id=reading.reading_id, out=folded,
            )  # fmt: skip
            if fold is Fold.TOO_LATE:
                out.late.append(reading)
                continue
            if fold is Fold.REFOLDED:
                out.refolded.append(reading)
                continue
            out.folded += 1
            self._clock_of(reading.sensor_id).observe(ts, wall)
            housing = housing_of(reading.tile_id)
            out.fired += self.rules.on_reading(reading.sensor_id, key[1], reading.value, ts, place, housing)
        for row in self.windows.pane_rows(folded):
            housing = housing_of(row.place.tile_id)
            out.panes.append((row, housing))
            if (row.key, row.start) in folded.touched:  # rate and anomaly rules follow live panes only
                out.fired += self.rules.on_pane(row.key[0], row.key[1], row.start, row.summary.mean, row.place, housing)
        out.hopping = [(row, housing_of(row.place.tile_id)) for row in self.windows.hopping_rows(folded)]
        out.evicted = self.windows.evict({key for key, _ in folded.panes()})
        return out

    def tick(self, wall: float, housing_of: HousingOf) -> list[Fired]:
        """Staleness on the stream clock of each sensor's partition; nothing before its first reading.

        One clock per partition, not one per worker: a partition read behind the others (its
        worker caught up after a rebalance, a broker came back) must not have its sensors
        judged silent by the event time of partitions ahead of it.
        """

        def now_of(sensor_id: str) -> float | None:
            return self._clock_of(sensor_id).now(wall) if self.judges(sensor_id) else None

        return self.rules.tick(now_of, housing_of)

    def _clock_of(self, sensor_id: str) -> StreamClock:
        """The clock of the sensor's partition (a new clock knows no time until a reading comes)."""
        partition = self.partition_of.get(sensor_id, NO_PARTITION)
        clock = self.clocks.get(partition)
        if clock is None:
            clock = self.clocks[partition] = StreamClock()
        return clock
