"""Interruptions of power and water counted as Peru's regulators count them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from api.continuity import STANDARDS, Service, interruptions, summarise

T0 = datetime(2026, 2, 1, 14, 0, tzinfo=UTC)
POWER, WATER = STANDARDS[Service.POWER], STANDARDS[Service.WATER]


def minutes(*values: float, start: datetime = T0) -> list[tuple[datetime, float]]:
    """One sample a minute."""
    return [(start + timedelta(minutes=i), v) for i, v in enumerate(values)]


def test_a_cut_of_three_minutes_counts_and_one_of_two_does_not() -> None:
    samples = minutes(220, 0, 0, 221, 0, 0, 0, 219)
    found = interruptions(samples, POWER, period_end=T0 + timedelta(hours=1))
    assert [(s.started, s.ended) for s in found] == [(T0 + timedelta(minutes=4), T0 + timedelta(minutes=7))]
    assert found[0].duration == timedelta(minutes=3)
    assert not found[0].compensable


def test_a_sag_is_not_an_interruption() -> None:
    assert interruptions(minutes(220, 180, 120, 60, 220), POWER, period_end=T0 + timedelta(hours=1)) == []


def test_power_off_over_four_consecutive_hours_is_compensable() -> None:
    samples = [(T0, 220.0), (T0 + timedelta(minutes=1), 0.0), (T0 + timedelta(hours=4, minutes=2), 220.0)]
    (cut,) = interruptions(samples, POWER, period_end=T0 + timedelta(days=1))
    assert cut.duration == timedelta(hours=4, minutes=1)
    assert cut.compensable
    assert cut.unobserved == timedelta(hours=4)  # one sample at each end: the rest unseen, and said so


def test_exactly_four_hours_is_not_over_four_hours() -> None:
    samples = [(T0, 0.0), (T0 + timedelta(hours=4), 220.0)]
    assert not interruptions(samples, POWER, period_end=T0 + timedelta(days=1))[0].compensable


def test_a_cut_still_on_runs_to_the_end_of_the_period() -> None:
    end = T0 + timedelta(hours=6)
    (cut,) = interruptions(minutes(220, 0, 0), POWER, period_end=end)
    assert cut.ended is None
    assert cut.duration == end - (T0 + timedelta(minutes=1))
    assert cut.compensable  # already past four hours


def test_water_counts_from_thirty_minutes_below_the_dry_tap_limit() -> None:
    dry_29 = [1.4] + [0.1] * 29 + [1.3]
    dry_45 = [1.4] + [0.05] * 45 + [1.2]
    found = interruptions(minutes(*dry_29, *dry_45), WATER, period_end=T0 + timedelta(days=1))
    assert len(found) == 1
    assert found[0].duration == timedelta(minutes=45)
    assert not found[0].compensable  # no compensation rule for water


def test_summary_counts_totals_and_the_longest() -> None:
    samples = minutes(220, *([0] * 5), 220, *([0] * 10), 220)
    summary = summarise(interruptions(samples, POWER, period_end=T0 + timedelta(hours=1)))
    assert (summary.count, summary.total, summary.longest, summary.compensable) == (
        2, timedelta(minutes=15), timedelta(minutes=10), 0,
    )  # fmt: skip


def test_no_samples_no_interruptions() -> None:
    assert interruptions([], POWER, period_end=T0) == []
    assert summarise([]).count == 0


def test_a_programmed_cut_announced_48_hours_ahead_is_listed_but_not_counted() -> None:
    from api.continuity import Announcement, Interruption, Service, announced

    t0 = datetime(2026, 3, 10, 9, tzinfo=UTC)
    span = Interruption(
        started=t0 + timedelta(minutes=5), ended=t0 + timedelta(hours=5), duration=timedelta(hours=4, minutes=55),
        unobserved=timedelta(), compensable=True,
    )  # fmt: skip
    ahead = Announcement(Service.POWER, t0, t0 + timedelta(hours=5), announced_at=t0 - timedelta(hours=49))
    late = Announcement(Service.POWER, t0, t0 + timedelta(hours=5), announced_at=t0 - timedelta(hours=20))
    short = Announcement(Service.POWER, t0, t0 + timedelta(hours=2), announced_at=t0 - timedelta(days=3))
    water = Announcement(Service.WATER, t0, t0 + timedelta(hours=5), announced_at=t0 - timedelta(days=3))
    assert announced(span, Service.POWER, [ahead])
    assert not announced(span, Service.POWER, [late])  # told too late: it counts, and is compensable
    assert not announced(span, Service.POWER, [short])  # outlasted what was announced
    assert not announced(span, Service.POWER, [water])  # another service's cut


def test_hours_of_supply_a_day_are_counted_in_limas_day_over_the_minutes_observed() -> None:
    from zoneinfo import ZoneInfo

    from api.continuity import STANDARDS, Service, supply_hours

    lima = ZoneInfo("America/Lima")
    start = datetime(2026, 3, 10, 5, tzinfo=UTC)  # midnight in Lima
    samples = [(start + timedelta(minutes=m), 1.5 if 6 * 60 <= m < 10 * 60 else 0.0) for m in range(12 * 60)]
    samples += [(start + timedelta(days=1, minutes=m), 1.2) for m in range(120)]
    hours = supply_hours(samples, STANDARDS[Service.WATER], zone=lima)
    assert hours[date(2026, 3, 10)] == (4.0, 12.0)  # four hours of water out of twelve observed
    assert hours[date(2026, 3, 11)] == (2.0, 2.0)
