"""The NTCSE's control periods and the comparison with an operator's tolerance."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from api.semester import SemesterError, SupplyPoint, Tolerance, parse, previous, semester_of, worst_first

LIMA = ZoneInfo("America/Lima")


def test_a_moment_falls_in_its_half_year_on_lima_s_clock() -> None:
    # 03:00 UTC on 1 July is still 30 June in Lima, five hours behind
    assert semester_of(datetime(2026, 7, 1, 3, tzinfo=UTC), LIMA).label == "2026-I"
    second = semester_of(datetime(2026, 7, 1, 6, tzinfo=UTC), LIMA)
    assert second.label == "2026-II"
    assert second.start == datetime(2026, 7, 1, tzinfo=LIMA)
    assert second.end == datetime(2027, 1, 1, tzinfo=LIMA)


def test_labels_name_their_bounds_and_the_one_before() -> None:
    first = parse(" 2027-I ", LIMA)
    assert (first.start, first.end) == (datetime(2027, 1, 1, tzinfo=LIMA), datetime(2027, 7, 1, tzinfo=LIMA))
    assert previous(first, LIMA).label == "2026-II"
    assert previous(parse("2026-II", LIMA), LIMA).label == "2026-I"


@pytest.mark.parametrize("label", ["2026-III", "2026", "26-I", "2026-i", ""])
def test_a_label_that_names_no_semester_is_refused_with_the_form_to_use(label: str) -> None:
    with pytest.raises(SemesterError, match="like 2026-II"):
        parse(label, LIMA)


def test_a_running_semester_stops_now() -> None:
    half = parse("2026-II", LIMA)
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert half.until(now) == now
    assert parse("2026-I", LIMA).until(now) == datetime(2026, 7, 1, tzinfo=LIMA)


def test_either_indicator_past_its_tolerance_exceeds_it_and_none_set_never_does() -> None:
    tolerance = Tolerance(interruptions=6, hours=10.0)
    assert not SupplyPoint("a", "t", 6, 10.0).exceeds(tolerance)  # at the tolerance is within it
    assert SupplyPoint("b", "t", 7, 1.0).exceeds(tolerance)
    assert SupplyPoint("c", "t", 1, 10.5).exceeds(tolerance)
    assert not SupplyPoint("d", "t", 99, 99.0).exceeds(None)


def test_those_past_the_tolerance_come_first_then_the_longest() -> None:
    tolerance = Tolerance(interruptions=3, hours=20.0)
    points = [
        SupplyPoint("long", "t", 2, 15.0),
        SupplyPoint("many", "t", 5, 2.0),
        SupplyPoint("fine", "t", 1, 1.0),
        SupplyPoint("both", "t", 9, 30.0),
    ]
    assert [p.sensor_id for p in worst_first(points, tolerance)] == ["both", "many", "long", "fine"]
    assert [p.sensor_id for p in worst_first(points, None)] == ["both", "long", "many", "fine"]
