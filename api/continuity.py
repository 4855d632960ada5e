"""Service continuity as Peru's regulators count it: interruptions of power and water from readings.

Electricity: the NTCSE (D.S. N° 020-97-EM) measures continuity by the number and the
duration of interruptions over six-month control periods, and distributors report every
interruption of 3 minutes or more to OSINERGMIN (procedure 074-2004-OS/CD). One longer
than 4 consecutive hours obliges the distributor to compensate users, unless it was
scheduled and announced 48 hours ahead (D.L. 25844, art. 86; its Reglamento, art. 168).
Water: SUNASS's service-quality rules (Res. 011-2007-SUNASS-CD) govern interruptions and
their notice; here a water outage is pressure below the level at which taps run dry.

Pure code over one sensor's samples in time order: `interruptions` finds the spans the
service was off. A span starts at the first sample below the limit and ends at the first
one at or above it; a sensor that falls silent while the service is off is taken to stay
off until it speaks again (a mains-powered sensor goes quiet in a power cut), and the span
says how long it was unobserved, so a reader can weigh it as evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum


class Service(StrEnum):
    POWER = "power"
    WATER = "water"


@dataclass(frozen=True)
class Standard:
    """How one service's interruptions are recognised and counted."""

    metric: str
    off_below: float  # a sample below this means no supply
    counted_from: timedelta  # shorter interruptions are not counted
    compensable_after: timedelta | None  # longer ones oblige compensation, where the law says so


STANDARDS: dict[Service, Standard] = {
    # Volts: the line is down, not sagging (220 V nominal).
    Service.POWER: Standard("mains_voltage", 50.0, timedelta(minutes=3), timedelta(hours=4)),
    # Bar: taps run dry well before zero; the water-outage alert rule uses the same limit.
    Service.WATER: Standard("water_pressure", 0.2, timedelta(minutes=30), None),
}


@dataclass(frozen=True)
class Interruption:
    started: datetime
    ended: datetime | None  # None: still off at the end of what was read
    duration: timedelta  # up to `ended`, or up to the end of the period when still off
    unobserved: timedelta  # time inside it with no sample, beyond the sensor's usual interval
    compensable: bool


def interruptions(
    samples: Iterable[tuple[datetime, float]],
    standard: Standard,
    *,
    period_end: datetime,
    expected_interval: timedelta = timedelta(minutes=1),
) -> list[Interruption]:
    """Interruptions counted by `standard` in one sensor's samples, oldest first.

    `samples` are (time, value) in time order; an interruption still open at the last
    sample runs to `period_end`. Gaps between samples longer than `expected_interval`
    inside an interruption are added up in `unobserved`.
    """
    found: list[Interruption] = []
    started: datetime | None = None
    last: datetime | None = None
    unobserved = timedelta()
    for at, value in samples:
        off = value < standard.off_below
        if started is not None and last is not None:
            unobserved += max(timedelta(), at - last - expected_interval)
        if off and started is None:
            started, unobserved = at, timedelta()
        elif not off and started is not None:
            found.append(_closed(started, at, at - started, unobserved, standard))
            started = None
        last = at
    if started is not None and last is not None:
        unobserved += max(timedelta(), period_end - last - expected_interval)
        found.append(_closed(started, None, max(timedelta(), period_end - started), unobserved, standard))
    return [span for span in found if span.duration >= standard.counted_from]


def _closed(
    started: datetime, ended: datetime | None, duration: timedelta, unobserved: timedelta, standard: Standard
) -> Interruption:
    limit = standard.compensable_after
    return Interruption(
        started=started,
        ended=ended,
        duration=duration,
        unobserved=unobserved,
        compensable=limit is not None and duration > limit,  # an ongoing one already past the limit counts
    )


@dataclass(frozen=True)
class Summary:
    """What a regulator's report counts for one service over a period."""

    count: int
    total: timedelta
    longest: timedelta
    compensable: int


def summarise(found: Iterable[Interruption]) -> Summary:
    spans = list(found)
    return Summary(
        count=len(spans),
        total=sum((s.duration for s in spans), timedelta()),
        longest=max((s.duration for s in spans), default=timedelta()),
        compensable=sum(1 for s in spans if s.compensable),
    )


NOTICE = timedelta(hours=48)  # a programmed cut announced this far ahead is not the distributor's fault
SLACK = timedelta(minutes=15)  # a programmed cut may begin a little before the hour announced


@dataclass(frozen=True)
class Announcement:
    """A programmed cut an operator recorded: when it was to happen, and when people were told."""

    service: Service
    starts: datetime
    ends: datetime
    announced_at: datetime

    @property
    def in_time(self) -> bool:
        return self.starts - self.announced_at >= NOTICE


def announced(span: Interruption, service: Service, announcements: Iterable[Announcement]) -> bool:
    """Whether `span` is a programmed cut announced 48 hours ahead: it began inside the announced window
    and did not outlast it by more than the slack. Such cuts are listed but neither counted nor compensable."""
    end = span.ended or span.started + span.duration
    return any(
        a.service is service and a.in_time and a.starts - SLACK <= span.started <= a.ends and end <= a.ends + SLACK
        for a in announcements
    )


def supply_hours(
    samples: Iterable[tuple[datetime, float]], standard: Standard, *, zone: tzinfo
) -> dict[date, tuple[float, float]]:
    """(hours with the service on, hours observed) per day in `zone`, from one sensor's one-minute samples,
    as SUNASS reports water continuity in hours of supply a day. Unobserved minutes are neither on nor
    off: the observed hours say how much of the day the figure rests on."""
    on: dict[date, int] = {}
    seen: dict[date, int] = {}
    for at, value in samples:
        day = at.astimezone(zone).date()
        seen[day] = seen.get(day, 0) + 1
        on[day] = on.get(day, 0) + (value >= standard.off_below)
    return {day: (on[day] / 60, seen[day] / 60) for day in seen}
