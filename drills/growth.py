"""Verdicts of the soak from its samples: did memory grow, did lag stay bounded. Pure.

Memory is judged from the end of the warm-up (a JVM sizing its heap, PostgreSQL filling
its shared buffers and caches are not leaks) to the end of the run; each end is the median
of a few samples, so one garbage collection caught mid-way decides nothing. Lag is judged
the same way: its peak against an absolute limit, and its trend by the median of the last
third of the run against the first, so one slow batch near the end is not a climb.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

EDGE_SAMPLES = 5


@dataclass(frozen=True)
class Growth:
    start_mib: float
    end_mib: float
    peak_mib: float

    @property
    def ratio(self) -> float:
        return self.end_mib / self.start_mib - 1 if self.start_mib else 0.0


def growth(samples: list[tuple[float, float]], *, warmup_s: float) -> Growth | None:
    """(seconds into the run, MiB) samples -> memory after the warm-up, at the end, and at its peak."""
    settled = [mib for at, mib in samples if at >= warmup_s]
    if len(settled) < 2 * EDGE_SAMPLES:
        return None
    return Growth(
        start_mib=statistics.median(settled[:EDGE_SAMPLES]),
        end_mib=statistics.median(settled[-EDGE_SAMPLES:]),
        peak_mib=max(settled),
    )


@dataclass(frozen=True)
class Lag:
    peak: int  # readings published and not yet durable in TimescaleDB
    mean: float
    first_third_median: float
    last_third_median: float
    first_third_peak: int
    last_third_peak: int

    def seconds(self, rate: float) -> float:
        return self.peak / rate if rate else 0.0

    def bounded(self, rate: float, *, limit_s: float) -> bool:
        """Never more than `limit_s` behind, and not climbing: the last third's median no more
        than twice the first's (or than a second of readings, for a lag that small)."""
        return self.seconds(rate) <= limit_s and self.last_third_median <= max(2 * self.first_third_median, rate)


def lag(samples: list[tuple[float, int]], *, warmup_s: float) -> Lag | None:
    """(seconds into the run, readings behind) samples after the warm-up -> the lag's peak and trend."""
    settled = [behind for at, behind in samples if at >= warmup_s]
    if len(settled) < 3:
        return None
    third = len(settled) // 3
    first, last = settled[:third], settled[-third:]
    return Lag(
        peak=max(settled),
        mean=statistics.fmean(settled),
        first_third_median=statistics.median(first),
        last_third_median=statistics.median(last),
        first_third_peak=max(first),
        last_third_peak=max(last),
    )
