"""The stream's clock: event time, kept moving when the whole district falls silent.

Staleness is judged against the newest event time seen, so a replay of yesterday at
high speed judges silence in yesterday's time. When no reading arrives at all, event time
stops; the clock then runs on with the wall clock from the moment the last reading came,
so a district that went dark still raises its offline alerts. The worker keeps one clock
per readings partition (see `Processor.tick`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StreamClock:
    newest: float | None = None
    wall_at_newest: float = 0.0

    def observe(self, event_time: float, wall: float) -> None:
        if self.newest is None or event_time > self.newest:
            self.newest = event_time
            self.wall_at_newest = wall

    def now(self, wall: float) -> float | None:
        if self.newest is None:
            return None
        return self.newest + max(0.0, wall - self.wall_at_newest)
