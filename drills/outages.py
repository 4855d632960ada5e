"""The soak's power cuts: a schedule in event time, and the alerts it must raise. Pure.

A few of the sensors lose mains on a fixed cycle, staggered so cuts start and end all
through the run; the rest stay at 220 V. Knowing the schedule, the drill knows how many
power-outage alerts the stream owes by the last reading, and how many it must have resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

MAINS_VOLTS = 220.0
CUT_VOLTS = 0.0
CUT_SENSORS = 5  # sensors 0..4 of the feed lose power; the others never do
MINUTE_MS = 60_000
CYCLE_MS = 12 * MINUTE_MS  # each cycle: six minutes cut, six minutes back
CUT_MS = 6 * MINUTE_MS
STAGGER_MS = 2 * MINUTE_MS + 17_000  # one sensor's cycle starts this much after the previous one's
MARGIN_MS = 1_000  # each sensor reports every few milliseconds; a second's grace either side


@dataclass(frozen=True)
class Cut:
    sensor: int
    start_ms: int
    end_ms: int


def is_cut(sensor: int, at_ms: int) -> bool:
    return sensor < CUT_SENSORS and (at_ms - sensor * STAGGER_MS) % CYCLE_MS < CUT_MS


def cuts(sensor: int, end_ms: int) -> list[Cut]:
    """The cuts of `sensor` that began before `end_ms`; the last may still be going."""
    if sensor >= CUT_SENSORS:
        return []
    found: list[Cut] = []
    start = sensor * STAGGER_MS - CYCLE_MS  # a cut that may already be going at time 0
    while start < end_ms:
        begin, finish = max(0, start), start + CUT_MS
        if finish > 0:
            found.append(Cut(sensor, begin, finish))
        start += CYCLE_MS
    return found


@dataclass(frozen=True)
class Owed:
    """Alerts the schedule makes certain (`least`) or possible (`most`) by the last reading."""

    opened_least: int
    opened_most: int
    resolved_least: int
    resolved_most: int

    def admits(self, opened: int, resolved: int) -> bool:
        return self.opened_least <= opened <= self.opened_most and self.resolved_least <= resolved <= self.resolved_most


def owed(sensors: int, end_ms: int, *, for_ms: int, clear_ms: int) -> Owed:
    """What a threshold rule held `for_ms` and cleared after `clear_ms` owes for readings in [0, end_ms)."""
    least = most = done_least = done_most = 0
    for sensor in range(sensors):
        for cut in cuts(sensor, end_ms):
            held = min(cut.end_ms, end_ms) - cut.start_ms
            if held >= for_ms + MARGIN_MS:
                least += 1
            if held >= for_ms - MARGIN_MS:
                most += 1
                # Resolving needs power back for clear_ms after a cut long enough to have opened.
                back = end_ms - cut.end_ms
                if back >= clear_ms + MARGIN_MS and held >= for_ms + MARGIN_MS:
                    done_least += 1
                if back >= clear_ms - MARGIN_MS:
                    done_most += 1
    return Owed(least, most, done_least, done_most)


def voltage(n: int, sensors: int) -> dict[str, float]:
    """Reading n of the feed: sensor n % sensors at event time n milliseconds."""
    return {"mains_voltage": CUT_VOLTS if is_cut(n % sensors, n) else MAINS_VOLTS}
