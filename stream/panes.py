"""Panes and the windows made of them: pure arithmetic on event times and values.

Every reading is folded once, into the pane (`pane` seconds, the one-minute tumbling
window) its event time falls in. A hopping window of `size` seconds stepping by one pane is
the union of its `size / pane` consecutive panes, so each one is composed from pane
summaries instead of folding every reading into fifteen windows.

Every statistic merges: count, min, max, sum, the last value (by event time, ties broken
by reading id, so arrival order never matters), and a bottom-k sample (the k values whose
reading ids hash lowest) from which the robust spread, the median absolute deviation, is
computed. The sample is deterministic: the same readings give the same sample in any
order, and it is exact for windows of up to k readings per pane.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

SAMPLE_SIZE = 32


def pane_start(ts: float, pane: float) -> float:
    """Start (epoch seconds) of the pane holding `ts`."""
    return ts - (ts % pane)


def sample_key(reading_id: str) -> int:
    """A reading's place in the bottom-k sample: 60 bits of its id, which is already a hash."""
    return int(reading_id.replace("-", "")[:15], 16)


def pack_sample(sample: Sequence[tuple[int, float]]) -> bytes:
    """The sample as stored: its keys as little-endian int64s, then its values as float64s.

    One bytes value instead of two SQL arrays: building array literals was the costliest
    part of writing a window row.
    """
    keys, values = array("q", [k for k, _ in sample]), array("d", [v for _, v in sample])
    if sys.byteorder == "big":  # pragma: no cover
        keys.byteswap()
        values.byteswap()
    return keys.tobytes() + values.tobytes()


def unpack_sample(blob: bytes | None) -> list[tuple[int, float]]:
    if not blob:
        return []
    half = len(blob) // 2
    keys, values = array("q"), array("d")
    keys.frombytes(blob[:half])
    values.frombytes(blob[half:])
    if sys.byteorder == "big":  # pragma: no cover
        keys.byteswap()
        values.byteswap()
    return list(zip(keys, values, strict=True))


@dataclass(slots=True)
class Pane:
    """Mergeable summary of the readings of one sensor, metric and pane."""

    count: int = 0
    min: float = float("inf")
    max: float = float("-inf")
    sum: float = 0.0
    last: float = 0.0
    last_ts: float = float("-inf")
    last_key: int = -1
    sample: list[tuple[int, float]] = field(default_factory=list)  # (sample key, value), ascending

    def add(self, value: float, ts: float, key: int, k: int = SAMPLE_SIZE) -> None:
        self.count += 1
        self.min = min(self.min, value)
        self.max = max(self.max, value)
        self.sum += value
        if (ts, key) > (self.last_ts, self.last_key):
            self.last, self.last_ts, self.last_key = value, ts, key
        if len(self.sample) < k or key < self.sample[-1][0]:
            self.sample.append((key, value))
            self.sample.sort()
            del self.sample[k:]


@dataclass(frozen=True, slots=True)
class Summary:
    count: int
    min: float
    max: float
    mean: float
    last: float
    last_ts: float
    mad: float  # median absolute deviation, in the metric's unit

    @property
    def robust_sigma(self) -> float:
        """The MAD scaled to a normal distribution's standard deviation."""
        return 1.4826 * self.mad


def _median_of_sorted(ordered: Sequence[float]) -> float:
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


def mad(values: Sequence[float]) -> float:
    """`statistics.median` twice, by sorting in C: it runs for every window a batch changes."""
    if not values:
        return 0.0
    ordered = sorted(values)
    centre = _median_of_sorted(ordered)
    return float(_median_of_sorted(sorted([abs(v - centre) for v in ordered])))


def summarise(panes: Sequence[Pane]) -> Summary:
    """One summary of several panes (one pane: the tumbling window; fifteen: a hopping one).

    The spread is computed from every pane's whole sample, so a hopping window's comes
    from as many values as its panes hold, up to the sample size each.
    """
    filled = [p for p in panes if p.count]
    if not filled:
        raise ValueError("no readings to summarise")
    count = sum(p.count for p in filled)
    newest = max(filled, key=lambda p: (p.last_ts, p.last_key))
    values = [v for p in filled for _, v in p.sample]
    return Summary(
        count=count,
        min=min(p.min for p in filled),
        max=max(p.max for p in filled),
        mean=sum(p.sum for p in filled) / count,
        last=newest.last,
        last_ts=newest.last_ts,
        mad=mad(values),
    )


def is_late(ts: float, newest: float | None, lateness: float) -> bool:
    """Whether a reading is older than the newest one seen for its sensor and metric by more
    than `lateness` seconds (see `WindowBook.fold` for what becomes of it)."""
    return newest is not None and ts < newest - lateness
