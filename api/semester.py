"""The NTCSE's six-month control periods, and the figures checked against the tolerances an operator sets.

The NTCSE (D.S. N° 020-97-EM) measures each supply point's continuity over control
periods of six months, January to June and July to December: the number of interruptions
(N) and their total duration (D), each against a tolerance that depends on the supply
level. The numbers differ by level and have been revised, so Vigía hard-codes none: an
operator sets them per district and service, and each sensor stands for one supply point.
Pure code: the labels of semesters, their bounds in a time zone, and the comparison.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

LABEL = re.compile(r"^(?P<year>\d{4})-(?P<half>I|II)$")


class SemesterError(ValueError):
    """A semester label that does not name one, like `2026-III`."""


@dataclass(frozen=True)
class Semester:
    label: str  # 2026-I is January to June, 2026-II July to December
    start: datetime
    end: datetime  # exclusive

    def until(self, now: datetime) -> datetime:
        """Where the figures stop: the semester's end, or now while it is still running."""
        return min(self.end, now)


def _bounds(year: int, second_half: bool, zone: tzinfo) -> Semester:
    start = datetime(year, 7 if second_half else 1, 1, tzinfo=zone)
    end = datetime(year + 1, 1, 1, tzinfo=zone) if second_half else datetime(year, 7, 1, tzinfo=zone)
    return Semester(f"{year}-{'II' if second_half else 'I'}", start, end)


def semester_of(moment: datetime, zone: tzinfo) -> Semester:
    """The control period `moment` falls in, its months counted on the clock of `zone`."""
    local = moment.astimezone(zone)
    return _bounds(local.year, local.month >= 7, zone)


def parse(label: str, zone: tzinfo) -> Semester:
    match = LABEL.match(label.strip())
    if match is None:
        raise SemesterError(f"{label!r} is not a semester: write the year and I or II, like 2026-II")
    return _bounds(int(match["year"]), match["half"] == "II", zone)


def previous(semester: Semester, zone: tzinfo) -> Semester:
    return semester_of(semester.start - timedelta(days=1), zone)


@dataclass(frozen=True)
class Tolerance:
    """At most this many interruptions, lasting at most this many hours in all, per supply point a semester."""

    interruptions: int
    hours: float


@dataclass(frozen=True)
class SupplyPoint:
    """One sensor's counted interruptions over a semester, standing for the supply point it watches."""

    sensor_id: str
    tile_id: str
    interruptions: int
    hours: float

    def exceeds(self, tolerance: Tolerance | None) -> bool:
        """Whether either indicator is past its tolerance; with no tolerance set, nothing is."""
        return tolerance is not None and (self.interruptions > tolerance.interruptions or self.hours > tolerance.hours)


def worst_first(points: Iterable[SupplyPoint], tolerance: Tolerance | None) -> list[SupplyPoint]:
    """Those past the tolerance first, then by hours and number: who a planner should look at first."""
    return sorted(points, key=lambda p: (not p.exceeds(tolerance), -p.hours, -p.interruptions, p.sensor_id))
