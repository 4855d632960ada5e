"""A sliding-window counter per caller: the API's rate limit, kept in this process's memory.

Each caller has two counts, this window's and the last one's. A hit is allowed while the
last window's count, weighted by how much of it still lies within one window of now, plus
this window's count, is below the limit. This is the strategy `limits` calls the sliding
window counter, whose rule parser the API still uses.

Its memory storage expires keys from a timer thread it starts again whenever the last one
has ended, at most every 10 ms: under load that was a new thread every seven to ten requests,
and with its locks a quarter of what `/livez` cost. Here nothing runs between hits: a
caller's counts are judged by the window they belong to, and callers idle for two windows are
dropped once per window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Counts:
    window: int  # the window `current` counts in: floor(time / window length)
    current: int
    previous: int


class SlidingWindowCounter:
    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError(f"a rate limit needs at least one request in a positive time, not {limit} in {seconds} s")
        self.limit = limit
        self.seconds = seconds
        self.clock = clock
        self._callers: dict[str, _Counts] = {}
        self._swept = -1

    def hit(self, who: str) -> bool:
        """Count a request of `who` if the limit allows it; False (and nothing counted) if not."""
        now = self.clock() / self.seconds
        counts = self._counts(who, now)
        if self._load(counts, now) >= self.limit:
            return False
        counts.current += 1
        return True

    def retry_after(self, who: str) -> float:
        """Seconds until `who` may make a request again: a request made later than that is allowed."""
        now = self.clock() / self.seconds
        counts = self._counts(who, now)
        if self._load(counts, now) < self.limit:
            return 0.0
        if counts.current < self.limit:
            # Later in this window, once the last window's share has shrunk enough.
            until = counts.window + 1 - (self.limit - counts.current) / counts.previous
        else:
            # In the next window, where this window's count becomes the last one's and shrinks.
            until = counts.window + 2 - self.limit / counts.current
        return (until - now) * self.seconds

    @staticmethod
    def _load(counts: _Counts, now: float) -> float:
        share = 1 - (now - counts.window)  # of the last window, still within one window of now
        return counts.previous * share + counts.current

    def _counts(self, who: str, now: float) -> _Counts:
        window = math.floor(now)
        if window != self._swept:
            self._sweep(window)
        counts = self._callers.get(who)
        if counts is None:
            counts = self._callers[who] = _Counts(window, 0, 0)
        elif counts.window != window:
            counts.previous = counts.current if counts.window == window - 1 else 0
            counts.current, counts.window = 0, window
        return counts

    def _sweep(self, window: int) -> None:
        self._swept = window
        stale = [who for who, counts in self._callers.items() if counts.window < window - 1]
        for who in stale:
            del self._callers[who]

    def __len__(self) -> int:
        """Callers with counts that still matter: for tests and the curious."""
        return len(self._callers)
