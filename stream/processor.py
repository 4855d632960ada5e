"""One batch of new readings through windows and rules: what the stream worker does, without I/O.

The Faust agent and the plain consumer of the benchmark both call this, between the
sink's insert (which says which readings are new) and its upserts. Readings are taken in
event order, so a sensor's rules see its readings as they happened even when a SenML pack
or a re-delivery mixed them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from stream.alerts import OpenAlert, OpenAlerts
from stream.clock import StreamClock
from stream.panes import Pane, sample_key
from stream.rule_book import Fired, RuleBook
from stream.rules import RuleFile
from stream.window_book import Folded, HoppingRow, Key, PaneRow, Place, WindowBook
from vigia.contracts import HousingContext, Reading

HousingOf = Callable[[str], HousingContext]


@dataclass
class Outcome:
    panes: list[tuple[PaneRow, HousingContext]] = field(default_factory=list)
    hopping: list[tuple[HoppingRow, HousingContext]] = field(default_factory=list)
    fired: list[Fired] = field(default_factory=list)
    late: list[Reading] = field(default_factory=list)
    folded: int = 0
    evicted: int = 0  # panes no later reading can reach, dropped from memory


def key_of(reading: Reading) -> Key:
    return (reading.sensor_id, reading.metric.value)


class Processor:
    def __init__(self, rules: RuleFile, *, pane: float, window: float, lateness: float) -> None:
        self.windows = WindowBook(pane=pane, window=window, lateness=lateness)
        self.rules = RuleBook(rules)
        self.clock = StreamClock()
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

    def history_spans(self, readings: Sequence[Reading], sensors: set[str]) -> list[tuple[str, str, float, float]]:
        """(sensor, metric, since, until): the stored readings that rebuild the rule trackers of
        `sensors`, new here, up to their first reading in this batch."""
        first: dict[Key, float] = {}
        for r in readings:
            if r.sensor_id in sensors:
                key, ts = key_of(r), r.event_time.timestamp()
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

    def new_sensors(self, readings: Sequence[Reading]) -> set[str]:
        """Sensors whose open alerts and rule trackers must be loaded before their readings are folded."""
        return {r.sensor_id for r in readings} - self._alerts_loaded

    def unknown_keys(self, readings: Sequence[Reading]) -> set[Key]:
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

    def rollback(self, readings: Sequence[Reading], snapshot: OpenAlerts) -> None:
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

    def history_needed(self, readings: Sequence[Reading], unknown: set[Key]) -> float:
        """How far back (event time) the windows of `unknown` keys must be loaded for these readings."""
        w = self.windows
        oldest = min(r.event_time.timestamp() for r in readings if key_of(r) in unknown)
        return oldest - w.window - w.lateness - w.pane

    def process(self, new: Sequence[Reading], housing_of: HousingOf, wall: float) -> Outcome:
        out = Outcome()
        folded = Folded()
        places: dict[tuple[str, str], Place] = {}  # one label per tile, not one per reading
        for reading in sorted(new, key=lambda r: r.event_time):
            key = (reading.sensor_id, reading.metric.value)
            where = (reading.district, reading.tile_id)
            place = places.get(where) or places.setdefault(where, Place(*where))
            ts = reading.event_time.timestamp()
            late_before = len(folded.late)
            self.windows.fold(
                key, place, value=reading.value, ts=ts, sample_key=sample_key(reading.reading_id),
                reading_id=reading.reading_id, out=folded,
            )  # fmt: skip
            if len(folded.late) > late_before:
                out.late.append(reading)
                continue
            out.folded += 1
            self.clock.observe(ts, wall)
            housing = housing_of(reading.tile_id)
            out.fired += self.rules.on_reading(reading.sensor_id, key[1], reading.value, ts, place, housing)
        for row in self.windows.pane_rows(folded):
            housing = housing_of(row.place.tile_id)
            out.panes.append((row, housing))
            out.fired += self.rules.on_pane(row.key[0], row.key[1], row.start, row.summary.mean, row.place, housing)
        out.hopping = [(row, housing_of(row.place.tile_id)) for row in self.windows.hopping_rows(folded)]
        out.evicted = self.windows.evict({key for key, _ in folded.touched})
        return out

    def tick(self, wall: float, housing_of: HousingOf) -> list[Fired]:
        """Staleness on the stream clock; nothing before the first reading."""
        now = self.clock.now(wall)
        return [] if now is None else self.rules.tick(now, housing_of, judged=self.judges)
