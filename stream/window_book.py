"""The windows in flight: pane state per sensor and metric, and the rows it gives.

Pure bookkeeping over `panes.py`. Each batch folds only readings the database had not
seen (the sink says which), so a replay after a crash folds nothing twice. The book keeps
the panes of the last hopping window plus the allowed lateness per sensor and metric;
older ones are dropped. After a restart, a sensor's panes are loaded back from their
one-minute rows before its first reading is folded.

A reading behind its sensor's newest by more than the lateness but less than the horizon
(a gateway uploading what it buffered while its link was down) is re-folded: the panes it
reaches are loaded back from the database first (`reach`, `adopt`), it is added to its
pane, and the pane and the hopping windows holding it are written again. Older still, it
is only stored and counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from stream.lane import Lane, Place
from stream.panes import Pane, Summary, is_late, pane_start, summarise

Key = tuple[str, str]  # (sensor_id, metric)


@dataclass(frozen=True)
class PaneRow:
    key: Key
    place: Place
    start: float
    pane: Pane
    summary: Summary


@dataclass(frozen=True)
class HoppingRow:
    key: Key
    place: Place
    end: float
    summary: Summary


class Fold(Enum):
    """What became of one reading."""

    LIVE = "live"  # within the lateness: folded, and its rules follow it
    REFOLDED = "refolded"  # behind the lateness, within the horizon: its closed windows are written again
    TOO_LATE = "too_late"  # beyond the horizon: stored and counted only


@dataclass
class Folded:
    """What one batch changed."""

    touched: set[tuple[Key, float]] = field(default_factory=set)  # (key, pane start) of live readings
    refolded: set[tuple[Key, float]] = field(default_factory=set)  # (key, pane start) of re-folded late readings
    late: list[str] = field(default_factory=list)  # reading ids stored but not folded

    def panes(self) -> set[tuple[Key, float]]:
        """Every pane the batch changed, live or re-folded."""
        return self.touched | self.refolded


class WindowBook:
    """Every sensor and metric's panes in flight, each packed in a `Lane`."""

    def __init__(self, *, pane: float, window: float, lateness: float, horizon: float = 0.0) -> None:
        if window % pane:
            raise ValueError(f"the hopping window ({window} s) must be a whole number of panes ({pane} s)")
        self.pane = pane
        self.window = window
        self.lateness = lateness
        self.horizon = max(horizon, lateness)  # how far behind its newest a reading is still folded
        self.lanes: dict[Key, Lane] = {}
        self._places: dict[Place, Place] = {}  # one label per tile, shared by its sensors' lanes

    def knows(self, key: Key) -> bool:
        return key in self.lanes

    def newest(self, key: Key) -> float | None:
        """The newest event time folded live for `key`, if any."""
        lane = self.lanes.get(key)
        return lane.newest if lane is not None else None

    def place(self, key: Key) -> Place:
        return self.lanes[key].place

    def panes(self, key: Key) -> dict[float, Pane]:
        """The panes held for `key`, by start (to inspect: the book itself reads them packed)."""
        lane = self.lanes.get(key)
        return lane.panes() if lane is not None else {}

    def held(self, key: Key) -> int:
        """How many panes are held for `key`."""
        lane = self.lanes.get(key)
        return len(lane) if lane is not None else 0

    def _lane(self, key: Key, place: Place) -> Lane:
        place = self._places.setdefault(place, place)
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane(place)
        else:
            lane.place = place
        return lane

    def load(self, key: Key, place: Place, panes: dict[float, Pane], newest: float | None) -> None:
        lane = self.lanes[key] = Lane(self._places.setdefault(place, place))
        for start, pane in sorted(panes.items()):
            lane.put(start, pane)
        lane.newest = newest

    def reach(self, ts: float) -> tuple[float, float]:
        """First and last pane start a reading at `ts` can change: its pane and every hopping
        window holding it. Re-folding it needs these panes in memory."""
        start = pane_start(ts, self.pane)
        return start - self.window + self.pane, start + self.window - self.pane

    def adopt(self, key: Key, panes: dict[float, Pane]) -> None:
        """Stored panes a late reading reaches, kept where memory has none: memory holds every
        pane a batch changed since it was loaded, the database every older one."""
        lane = self.lanes.get(key)
        if lane is None:
            return  # nothing folded for it yet: `fold` says where it is, and loads come first
        for start, pane in panes.items():
            lane.put(start, pane, keep=True)

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop state that may disagree with the database (a batch that did not commit)."""
        for key in keys:
            self.lanes.pop(key, None)

    def forget_sensors(self, sensors: set[str]) -> None:
        """Drop every window of these sensors (their partitions moved to another worker)."""
        self.forget([key for key in self.lanes if key[0] in sensors])

    def fold(
        self, key: Key, place: Place, *, value: float, ts: float, sample_key: int, reading_id: str, out: Folded
    ) -> Fold:
        """Fold one reading. A re-folded one's pane must be loaded first (see `reach` and `adopt`)."""
        lane = self._lane(key, place)
        newest = lane.newest
        if is_late(ts, newest, self.horizon):
            out.late.append(reading_id)
            return Fold.TOO_LATE
        start = pane_start(ts, self.pane)
        lane.add(start, value, ts, sample_key)
        if is_late(ts, newest, self.lateness):
            out.refolded.add((key, start))
            return Fold.REFOLDED
        if newest is None or ts > newest:
            lane.newest = ts
        out.touched.add((key, start))
        return Fold.LIVE

    def pane_rows(self, folded: Folded) -> list[PaneRow]:
        rows = []
        for key, start in sorted(folded.panes()):
            lane = self.lanes[key]
            pane = lane.pane(start)
            if pane is not None:
                rows.append(PaneRow(key, lane.place, start, pane, summarise([pane])))
        return rows

    def hopping_rows(self, folded: Folded) -> list[HoppingRow]:
        """Each changed pane changes the hopping windows that hold it: those whose last pane is
        it or one of the next window/pane - 1, up to the sensor's newest pane. One row per
        window end (the window's last pane's end)."""
        last_panes: dict[Key, set[float]] = {}
        for key, start in folded.panes():
            newest = self.lanes[key].newest
            newest_pane = pane_start(newest, self.pane) if newest is not None else start
            ends = last_panes.setdefault(key, set())
            last = start
            while last <= min(start + self.window - self.pane, newest_pane):
                ends.add(last)
                last += self.pane
        rows = []
        for key, ends in sorted(last_panes.items()):
            lane = self.lanes[key]
            for last in sorted(ends):
                summary = lane.summary(last + self.pane - self.window, last)
                if summary is not None:
                    rows.append(HoppingRow(key, lane.place, last + self.pane, summary))
        return rows

    def evict(self, keys: Iterable[Key] | None = None) -> int:
        """Drop panes no live reading can reach any more (of `keys`, or of every key); returns how many.

        A live reading is at most the lateness behind its key's newest, and changes the
        hopping windows holding its pane: the oldest of those begins a window less one pane
        before it. What a key's readings can reach moves only when one of them is folded, so
        after a batch the keys it changed are the only ones with panes to drop: the worker
        passes those, and a sensor holds at most a hopping window plus the lateness of panes,
        however long it runs (panes loaded back for a re-folded late reading go with the same
        batch).
        """
        dropped = 0
        for key in self.lanes if keys is None else keys:
            lane = self.lanes.get(key)
            if lane is None or lane.newest is None:
                continue
            dropped += lane.drop_before(pane_start(lane.newest - self.lateness, self.pane) - self.window + self.pane)
        return dropped
