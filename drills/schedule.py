"""The cluster drill's district: what each sensor reads, when its supply is cut, and the alerts owed. Pure.

Reading n comes from sensor n % sensors at event time n * step_ms, so every sensor reports
every `interval_ms` and its reading times are known in advance. Even sensors measure mains
voltage, odd ones water pressure (so a district of any size keeps each sensor's kind); a
few of each lose their supply on a staggered cycle, and nobody's supply is cut in the last
stretch of the run, so every outage has ended and cleared before the last reading.

Because the reading times are known, so is each alert a threshold rule owes: it opens at
the first reading inside the outage if a later reading inside it is `for_ms` or more after
that one, and resolves at the first reading after the outage once a reading `clear_ms`
after that is in. `judge` compares these with the alerts the stream stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

MINUTE_MS = 60_000
MAINS_VOLTS, CUT_VOLTS = 220.0, 0.0
PRESSURE_BAR, DRY_BAR = 1.2, 0.0


@dataclass(frozen=True)
class Cut:
    sensor: int
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class Cycle:
    """The `members` lose supply for `cut_ms` of every `cycle_ms`, each one's cycle `stagger_ms`
    after the previous one's; no cut starts at or after `until_ms`."""

    members: range
    cycle_ms: int
    cut_ms: int
    stagger_ms: int
    until_ms: int

    def cuts(self, sensor: int, end_ms: int) -> list[Cut]:
        """The cuts of `sensor` that begin before `end_ms` (the last may go on past it)."""
        if sensor not in self.members:
            return []
        found = []
        start = self.members.index(sensor) * self.stagger_ms % self.cycle_ms
        while start < min(end_ms, self.until_ms):
            found.append(Cut(sensor, start, start + self.cut_ms))
            start += self.cycle_ms
        return found

    def is_cut(self, sensor: int, at_ms: int) -> bool:
        return any(c.start_ms <= at_ms < c.end_ms for c in self.cuts(sensor, at_ms + 1))


@dataclass(frozen=True)
class Owed:
    """An alert a cut owes: opened at `opened_ms`, resolved at `resolved_ms` (None: not yet)."""

    sensor: int
    rule: str
    opened_ms: int
    resolved_ms: int | None


@dataclass(frozen=True)
class District:
    sensors: int
    step_ms: int
    power: Cycle
    water: Cycle

    @property
    def interval_ms(self) -> int:
        """How often each sensor reports, in event time."""
        return self.sensors * self.step_ms

    def kind(self, sensor: int) -> tuple[str, str]:
        """(sensor type, metric)."""
        return ("power", "mains_voltage") if sensor % 2 == 0 else ("water", "water_pressure")

    def sensor_of(self, n: int) -> int:
        return n % self.sensors

    def at_ms(self, n: int) -> int:
        return n * self.step_ms

    def values(self, n: int) -> dict[str, float]:
        sensor, at = self.sensor_of(n), self.at_ms(n)
        if self.kind(sensor)[0] == "power":
            return {"mains_voltage": CUT_VOLTS if self.power.is_cut(sensor, at) else MAINS_VOLTS}
        return {"water_pressure": DRY_BAR if self.water.is_cut(sensor, at) else PRESSURE_BAR}

    def owed(self, cycle: Cycle, rule: str, readings: int, *, for_ms: int, clear_ms: int) -> list[Owed]:
        """What a threshold rule held `for_ms` and cleared after `clear_ms` owes for readings 0..readings-1."""
        last_ms = self.at_ms(readings - 1)
        found = []
        for sensor in cycle.members:
            offset = sensor * self.step_ms  # the sensor's first reading
            for cut in cycle.cuts(sensor, last_ms + 1):
                first = self._first_reading_from(offset, cut.start_ms)
                last = min(self._first_reading_from(offset, cut.end_ms) - self.interval_ms, last_ms)
                if first > last or last - first < for_ms:
                    continue
                back = self._first_reading_from(offset, cut.end_ms)
                cleared = back + ((clear_ms + self.interval_ms - 1) // self.interval_ms) * self.interval_ms
                found.append(Owed(sensor, rule, first, back if cleared <= last_ms else None))
        return found

    def offline_owed(self, gateway: Gateway, rule: str, readings: int, *, silent_ms: int) -> list[Owed]:
        """The staleness alert each sensor behind the gateway owes for its silence: dated from its
        last reading before, resolved by its first after."""
        last_ms = self.at_ms(readings - 1)
        found = []
        for sensor in gateway.sensors:
            offset = sensor * self.step_ms
            before = self._first_reading_from(offset, gateway.silent_ms) - self.interval_ms
            after = self._first_reading_from(offset, gateway.back_ms)
            if before >= offset and after - before >= silent_ms:
                found.append(Owed(sensor, rule, before, after if after <= last_ms else None))
        return found

    def _first_reading_from(self, offset: int, at_ms: int) -> int:
        """Event time of the sensor's first reading at or after `at_ms`."""
        if at_ms <= offset:
            return offset
        return offset + -(-(at_ms - offset) // self.interval_ms) * self.interval_ms


@dataclass(frozen=True)
class Verdict:
    owed: int
    wrong: list[str] = field(default_factory=list)  # one line per alert missing, extra or misdated


def judge(owed: list[Owed], stored: list[Owed]) -> Verdict:
    """Every owed alert stored exactly once, with its times; nothing else stored."""
    want, got = Counter(owed), Counter(stored)
    wrong = [f"missing: {o}" for o in sorted((want - got).elements(), key=_order)]
    wrong += [f"not owed: {o}" for o in sorted((got - want).elements(), key=_order)]
    return Verdict(len(owed), wrong)


def _order(o: Owed) -> tuple[int, str, int]:
    return (o.sensor, o.rule, o.opened_ms)


@dataclass(frozen=True)
class Gateway:
    """Sensors behind one gateway that loses its link from `silent_ms` to `back_ms` of event
    time, sends fresh readings again from then, and uploads what it held once event time
    reaches `upload_ms`."""

    sensors: range
    silent_ms: int
    back_ms: int
    upload_ms: int

    def holds(self, sensor: int, at_ms: int) -> bool:
        return sensor in self.sensors and self.silent_ms <= at_ms < self.back_ms
