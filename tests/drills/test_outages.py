"""The soak's schedule of power cuts, and the alerts it owes."""

from __future__ import annotations

import pytest

from drills import outages
from drills.outages import CUT_MS, CUT_SENSORS, CYCLE_MS, MINUTE_MS, is_cut, owed

FOR_MS, CLEAR_MS = 3 * MINUTE_MS, 2 * MINUTE_MS


@pytest.mark.parametrize("sensor", range(CUT_SENSORS + 2))
def test_cuts_are_exactly_the_times_the_sensor_reads_zero(sensor: int) -> None:
    end = 3 * CYCLE_MS + 12_345
    cut_at = {t for c in outages.cuts(sensor, end) for t in range(c.start_ms, min(c.end_ms, end), 1000)}
    every_second = set(range(0, end, 1000))
    assert cut_at == {t for t in every_second if is_cut(sensor, t)}


def test_sensors_beyond_the_cut_ones_keep_power() -> None:
    assert not any(is_cut(CUT_SENSORS, t) for t in range(0, 2 * CYCLE_MS, 10_000))
    assert outages.voltage(CUT_SENSORS, sensors=20) == {"mains_voltage": outages.MAINS_VOLTS}


def test_voltage_follows_the_reading_number() -> None:
    assert outages.voltage(0, sensors=20) == {"mains_voltage": outages.CUT_VOLTS}  # sensor 0 starts in a cut
    assert outages.voltage(CUT_MS + 20, sensors=20) == {"mains_voltage": outages.MAINS_VOLTS}


def test_a_full_hour_owes_every_cut_and_resolution() -> None:
    hour = 60 * MINUTE_MS
    got = owed(20, hour, for_ms=FOR_MS, clear_ms=CLEAR_MS)
    cuts = [c for s in range(CUT_SENSORS) for c in outages.cuts(s, hour)]
    long_enough = [c for c in cuts if min(c.end_ms, hour) - c.start_ms >= FOR_MS + outages.MARGIN_MS]
    assert got.opened_least == len(long_enough) >= 4 * CUT_SENSORS
    assert got.resolved_least <= got.opened_least
    assert got.admits(got.opened_least, got.resolved_least)
    assert not got.admits(got.opened_least - 1, got.resolved_least)
    assert not got.admits(got.opened_most + 1, got.resolved_least)


def test_a_cut_too_short_so_far_owes_nothing() -> None:
    assert owed(1, FOR_MS - 2 * outages.MARGIN_MS, for_ms=FOR_MS, clear_ms=CLEAR_MS) == outages.Owed(0, 0, 0, 0)


def test_a_cut_just_long_enough_may_or_may_not_have_fired() -> None:
    got = owed(1, FOR_MS, for_ms=FOR_MS, clear_ms=CLEAR_MS)
    assert (got.opened_least, got.opened_most) == (0, 1)


def test_resolution_is_owed_once_power_is_back_long_enough() -> None:
    back_long = CUT_MS + CLEAR_MS + 2 * outages.MARGIN_MS
    assert owed(1, back_long, for_ms=FOR_MS, clear_ms=CLEAR_MS).resolved_least == 1
    assert owed(1, CUT_MS + CLEAR_MS // 2, for_ms=FOR_MS, clear_ms=CLEAR_MS).resolved_most == 0
