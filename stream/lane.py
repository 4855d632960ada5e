"""One sensor and metric's panes in flight, packed into two arrays.

A worker holds a hopping window plus the lateness of panes for every sensor and metric of
the partitions it owns: at a city's sensor count, hundreds of thousands of panes. As
Python objects (a `Pane` with its boxed floats and its sample of tuples) each costs about
four hundred bytes; packed here, a pane of one reading costs forty, and one of many eighty
plus sixteen per sampled value. The statistics are the same as `Pane.add` keeps.

Each pane is a slot; slots follow each other in ascending start order, and only panes
with readings have one. A slot is a head in `ints` (`count << 9 | summarised << 8 | n`,
with n the values in its sample) followed by either

- while every reading of the pane is in its sample (at most the sample size of them): the
  readings' sample keys in `ints`; in `floats` the pane's start then a (value, event time)
  pair per reading, in key order. Min, max, sum and the last value are read from them;
- once it holds more, or when it came from the database: the last reading's key, then the
  sample's keys in `ints`; in `floats` start, min, max, sum, last, last event time, then
  the sample's values.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from dataclasses import dataclass

from stream.panes import SAMPLE_SIZE, Pane, Summary, mad

_SUMMARY = 6  # floats of a summarised slot before its sample: start, min, max, sum, last, last_ts
_N_MASK = 0xFF


@dataclass(frozen=True, slots=True)
class Place:
    """Where a sensor is: what every row of its windows is labelled with."""

    district: str
    tile_id: str


def _head(count: int, summarised: bool, n: int) -> int:
    if n > _N_MASK:
        raise ValueError(f"a pane's sample holds at most {_N_MASK} values, not {n}")
    return count << 9 | int(summarised) << 8 | n


def _sizes(head: int) -> tuple[int, int, int, int]:
    """(count, n, floats, ints) of a slot from its head: how far the next one is."""
    n = head & _N_MASK
    if head >> 8 & 1:
        return head >> 9, n, _SUMMARY + n, 2 + n
    return head >> 9, n, 1 + 2 * n, 1 + n


class Lane:
    """The panes of one sensor and metric, its newest event time and where it is."""

    __slots__ = ("floats", "ints", "newest", "place", "tail")

    def __init__(self, place: Place) -> None:
        self.floats = array("d")
        self.ints = array("q")
        self.newest: float | None = None
        self.place = place
        # (float offset, int offset, index) of the last slot, or None when not known: live
        # readings land in the newest pane, so most look-ups end there without a walk.
        self.tail: tuple[int, int, int] | None = None

    def _find(self, start: float) -> tuple[int, int, int, bool]:
        """(float offset, int offset, slot index, found) of the slot of `start`, or of where it
        would go."""
        floats, ints = self.floats, self.ints
        tail = self.tail
        if tail is not None and start >= floats[tail[0]]:
            if start == floats[tail[0]]:
                return tail[0], tail[1], tail[2], True
            return len(floats), len(ints), tail[2] + 1, False
        f = q = index = 0
        end = len(ints)
        last = None
        while q < end:
            at = floats[f]
            if at >= start:
                return f, q, index, at == start
            last = (f, q, index)
            head = ints[q]
            n = head & _N_MASK
            if head >> 8 & 1:
                f, q = f + _SUMMARY + n, q + 2 + n
            else:
                f, q = f + 1 + 2 * n, q + 1 + n
            index += 1
        self.tail = last
        return f, q, index, False

    def __len__(self) -> int:
        return self._find(float("inf"))[2]

    def starts(self) -> list[float]:
        found, f, q, ints = [], 0, 0, self.ints
        while q < len(ints):
            found.append(self.floats[f])
            _, _, df, dq = _sizes(ints[q])
            f, q = f + df, q + dq
        return found

    def has(self, start: float) -> bool:
        return self._find(start)[3]

    def add(self, start: float, value: float, ts: float, key: int, k: int = SAMPLE_SIZE) -> None:
        """One reading into the pane starting at `start`."""
        f, q, index, found = self._find(start)
        floats, ints = self.floats, self.ints
        tail = self.tail
        if not found:
            at_end = q == len(ints)
            floats[f:f] = array("d", (start, value, ts))
            ints[q:q] = array("q", (_head(1, False, 1), key))
            self.tail = (f, q, index) if at_end else None
            return
        if tail is None or tail[1] != q:  # a slot before the last grows: the last one moves
            self.tail = None
        head = ints[q]
        count, n = head >> 9, head & _N_MASK
        if not head >> 8 & 1:
            if n < k:  # every reading still kept: in key order
                i = bisect_left(ints, key, q + 1, q + 1 + n) - q - 1
                ints.insert(q + 1 + i, key)
                floats[f + 1 + 2 * i : f + 1 + 2 * i] = array("d", (value, ts))
                ints[q] = _head(count + 1, False, n + 1)
                return
            self._summarise(f, q, n)
        self._add_summarised(f, q, count, n, value, ts, key, k)

    def _summarise(self, f: int, q: int, n: int) -> None:
        """A slot that keeps every reading becomes one that keeps their statistics and sample."""
        pane = self._read(f, q)
        self.floats[f + 1 : f + 1 + 2 * n] = array("d", (pane.min, pane.max, pane.sum, pane.last, pane.last_ts))
        self.floats[f + _SUMMARY : f + _SUMMARY] = array("d", (v for _, v in pane.sample))
        self.ints[q + 1 : q + 1] = array("q", (pane.last_key,))
        self.ints[q] = _head(pane.count, True, n)

    def _add_summarised(self, f: int, q: int, count: int, n: int, value: float, ts: float, key: int, k: int) -> None:
        floats, ints = self.floats, self.ints
        floats[f + 1] = min(floats[f + 1], value)
        floats[f + 2] = max(floats[f + 2], value)
        floats[f + 3] += value
        if (ts, key) > (floats[f + 5], ints[q + 1]):
            floats[f + 4], floats[f + 5], ints[q + 1] = value, ts, key
        if n < k or key < ints[q + 1 + n]:
            i = bisect_left(ints, key, q + 2, q + 2 + n) - q - 2
            ints.insert(q + 2 + i, key)
            floats.insert(f + _SUMMARY + i, value)
            if n == k:  # the highest key leaves the sample
                del ints[q + 2 + k]
                del floats[f + _SUMMARY + k]
            else:
                n += 1
        ints[q] = _head(count + 1, True, n)

    def put(self, start: float, pane: Pane, *, keep: bool = False) -> None:
        """A stored pane (from the database) at `start`; with `keep`, not over one held already."""
        if not pane.count:
            return
        f, q, _, found = self._find(start)
        self.tail = None  # slots may move
        if found:
            if keep:
                return
            _, _, df, dq = _sizes(self.ints[q])
            del self.floats[f : f + df]
            del self.ints[q : q + dq]
        sample = pane.sample[:_N_MASK] if len(pane.sample) > _N_MASK else pane.sample
        self.floats[f:f] = array(
            "d", (start, pane.min, pane.max, pane.sum, pane.last, pane.last_ts, *(v for _, v in sample))
        )
        self.ints[q:q] = array("q", (_head(pane.count, True, len(sample)), pane.last_key, *(k for k, _ in sample)))

    def pane(self, start: float) -> Pane | None:
        f, q, _, found = self._find(start)
        return self._read(f, q) if found else None

    def panes(self) -> dict[float, Pane]:
        """Every pane held, by start (to inspect; the worker reads slots in place)."""
        return {start: pane for start in self.starts() if (pane := self.pane(start)) is not None}

    def _read(self, f: int, q: int) -> Pane:
        floats, ints = self.floats, self.ints
        head = ints[q]
        count, n = head >> 9, head & _N_MASK
        if head >> 8 & 1:
            sample = list(zip(ints[q + 2 : q + 2 + n], floats[f + _SUMMARY : f + _SUMMARY + n], strict=True))
            return Pane(count, floats[f + 1], floats[f + 2], floats[f + 3], floats[f + 4], floats[f + 5],
                        ints[q + 1], sample)  # fmt: skip
        keys, values, times = (
            ints[q + 1 : q + 1 + n],
            floats[f + 1 : f + 1 + 2 * n : 2],
            floats[f + 2 : f + 2 + 2 * n : 2],
        )
        last_ts, last_key, last = max(zip(times, keys, values, strict=True))
        return Pane(count, min(values), max(values), sum(values), last, last_ts, last_key,
                    list(zip(keys, values, strict=True)))  # fmt: skip

    def summary(self, first: float, last: float) -> Summary | None:
        """The panes starting from `first` to `last` as one window; None if none has readings.

        Read in place, slot by slot: this runs for every hopping window a batch changes.
        """
        floats, ints = self.floats, self.ints
        f, q, _, _ = self._find(first)
        end = len(ints)
        count, low, high, total = 0, float("inf"), float("-inf"), 0.0
        last_ts, last_key, last_value = float("-inf"), -1, 0.0
        values: list[float] = []
        while q < end and floats[f] <= last:
            head = ints[q]
            n = head & _N_MASK
            if head >> 8 & 1:
                count += head >> 9
                low, high, total = min(low, floats[f + 1]), max(high, floats[f + 2]), total + floats[f + 3]
                ts, key = floats[f + 5], ints[q + 1]
                if ts > last_ts or (ts == last_ts and key > last_key):
                    last_ts, last_key, last_value = ts, key, floats[f + 4]
                values += floats[f + _SUMMARY : f + _SUMMARY + n]
                f, q = f + _SUMMARY + n, q + 2 + n
                continue
            if n == 1:  # a sensor reporting once a minute: one reading a pane, read without slicing
                value, ts, key = floats[f + 1], floats[f + 2], ints[q + 1]
                count += 1
                low, high, total = min(low, value), max(high, value), total + value
                if ts > last_ts or (ts == last_ts and key > last_key):
                    last_ts, last_key, last_value = ts, key, value
                values.append(value)
                f, q = f + 3, q + 2
                continue
            count += n
            # Slices and builtins run in C: this loop runs for every hopping window a batch changes.
            values_here = floats[f + 1 : f + 1 + 2 * n : 2]
            low, high, total = min(low, min(values_here)), max(high, max(values_here)), total + sum(values_here)
            times = floats[f + 2 : f + 2 + 2 * n : 2]
            ts = max(times)
            if ts >= last_ts:
                i = times.index(ts)
                key = ints[q + 1 + i]
                if times.count(ts) > 1:  # readings at the same instant: the highest key is the last
                    key, i = max((ints[q + 1 + j], j) for j in range(n) if times[j] == ts)
                if ts > last_ts or key > last_key:
                    last_ts, last_key, last_value = ts, key, values_here[i]
            values += values_here
            f, q = f + 1 + 2 * n, q + 1 + n
        if not count:
            return None
        return Summary(count=count, min=low, max=high, mean=total / count, last=last_value, last_ts=last_ts,
                       mad=mad(values))  # fmt: skip

    def drop_before(self, start: float) -> int:
        """Drop the panes starting before `start`; returns how many."""
        f, q, index, _ = self._find(start)
        del self.floats[:f]
        del self.ints[:q]
        self.tail = None
        return index
