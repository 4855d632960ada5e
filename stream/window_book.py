"""The windows in flight: pane state per sensor and metric, and the rows it gives.

Pure bookkeeping over `panes.py`. Each batch folds only readings the database had not
seen (the sink says which), so a replay after a crash folds nothing twice. The book keeps
the panes of the last hopping window plus the allowed lateness per sensor and metric;
older ones are final and dropped. After a restart, a sensor's panes are loaded back from
their one-minute rows before its first reading is folded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from stream.panes import Pane, Summary, is_late, pane_start, panes_of, summarise

Key = tuple[str, str]  # (sensor_id, metric)


@dataclass(frozen=True)
class Place:
    """Where a sensor is: what every row of its windows is labelled with."""

    district: str
    tile_id: str


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


@dataclass
class Folded:
    """What one batch changed."""

    touched: set[tuple[Key, float]] = field(default_factory=set)  # (key, pane start)
    late: list[str] = field(default_factory=list)  # reading ids stored but not folded


class WindowBook:
    def __init__(self, *, pane: float, window: float, lateness: float) -> None:
        if window % pane:
            raise ValueError(f"the hopping window ({window} s) must be a whole number of panes ({pane} s)")
        self.pane = pane
        self.window = window
        self.lateness = lateness
        self.panes: dict[Key, dict[float, Pane]] = {}
        self.newest: dict[Key, float] = {}
        self.places: dict[Key, Place] = {}

    def knows(self, key: Key) -> bool:
        return key in self.panes

    def load(self, key: Key, place: Place, panes: dict[float, Pane], newest: float | None) -> None:
        self.panes[key] = dict(panes)
        self.places[key] = place
        if newest is not None:
            self.newest[key] = newest

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop state that may disagree with the database (a batch that did not commit)."""
        for key in keys:
            self.panes.pop(key, None)
            self.newest.pop(key, None)

    def forget_sensors(self, sensors: set[str]) -> None:
        """Drop every window of these sensors (their partitions moved to another worker)."""
        self.forget([key for key in self.panes if key[0] in sensors])
        for key in [key for key in self.places if key[0] in sensors]:
            del self.places[key]

    def fold(
        self, key: Key, place: Place, *, value: float, ts: float, sample_key: int, reading_id: str, out: Folded
    ) -> None:
        if is_late(ts, self.newest.get(key), self.lateness):
            out.late.append(reading_id)
            return
        start = pane_start(ts, self.pane)
        self.places[key] = place
        self.panes.setdefault(key, {}).setdefault(start, Pane()).add(value, ts, sample_key)
        if ts > self.newest.get(key, float("-inf")):
            self.newest[key] = ts
        out.touched.add((key, start))

    def pane_rows(self, folded: Folded) -> list[PaneRow]:
        rows = []
        for key, start in sorted(folded.touched):
            pane = self.panes[key][start]
            rows.append(PaneRow(key, self.places[key], start, pane, summarise([pane])))
        return rows

    def hopping_rows(self, folded: Folded) -> list[HoppingRow]:
        """Each touched pane changes the hopping windows that end with it or after it, up to
        the sensor's newest pane: one row per window end (the window's last pane's end)."""
        oldest_touched: dict[Key, float] = {}
        for key, start in folded.touched:
            oldest_touched[key] = min(start, oldest_touched.get(key, start))
        rows = []
        for key, first in sorted(oldest_touched.items()):
            panes = self.panes[key]
            newest_pane = pane_start(self.newest[key], self.pane)
            last_start = first
            while last_start <= newest_pane:
                window_start = last_start + self.pane - self.window
                members = [panes[p] for p in panes_of(window_start, self.pane, self.window) if p in panes]
                if members:
                    rows.append(HoppingRow(key, self.places[key], last_start + self.pane, summarise(members)))
                last_start += self.pane
        return rows

    def evict(self, keys: Iterable[Key] | None = None) -> int:
        """Drop panes no reading can reach any more (of `keys`, or of every key); returns how many.

        A key's horizon moves only when one of its readings is folded, so after a batch the
        keys it touched are the only ones with panes to drop: the worker passes those, and a
        sensor holds at most a hopping window plus the lateness of panes, however long it runs.
        """
        dropped = 0
        for key in self.panes if keys is None else keys:
            panes = self.panes.get(key)
            if not panes:
                continue
            horizon = self.newest.get(key, float("-inf")) - self.window - self.lateness - self.pane
            for start in [s for s in panes if s < horizon]:
                del panes[start]
                dropped += 1
        return dropped
