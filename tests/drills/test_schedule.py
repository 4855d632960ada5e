"""The cluster drill's schedule owes exactly the alerts the stream's own rules raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drills.schedule import MINUTE_MS, Cycle, District, Gateway, Owed, judge
from stream.alerts import Change
from stream.processor import Processor
from stream.rules import load_rules
from vigia.contracts import HousingContext, Metric, Reading
from vigia.reading_records import FlatReading

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
HOUR = 60 * MINUTE_MS


def district(until_ms: int = 10 * HOUR) -> District:
    return District(
        sensors=20,
        step_ms=1000,  # each sensor every 20 s
        power=Cycle(range(0, 6, 2), cycle_ms=15 * MINUTE_MS, cut_ms=6 * MINUTE_MS, stagger_ms=4 * MINUTE_MS,
                    until_ms=until_ms),
        water=Cycle(range(11, 15, 2), cycle_ms=60 * MINUTE_MS, cut_ms=36 * MINUTE_MS, stagger_ms=20 * MINUTE_MS,
                    until_ms=until_ms),
    )  # fmt: skip


def alerts_raised(d: District, readings: int) -> list[Owed]:
    """Every reading through the stream's pure processor, as the worker folds them."""
    p = Processor(load_rules(), pane=60, window=900, lateness=120)
    batch = []
    for n in range(readings):
        (metric, value), sensor = next(iter(d.values(n).items())), d.sensor_of(n)
        batch.append(FlatReading.of(Reading(
            sensor_id=f"s{sensor}", district="drill", tile_id="17/1/1", metric=Metric(metric), value=value,
            unit="V" if metric == "mains_voltage" else "bar", event_time=T0 + timedelta(milliseconds=d.at_ms(n)),
            received_at=T0,
        )))  # fmt: skip
    opened: dict[str, Owed] = {}
    for start in range(0, len(batch), 500):
        out = p.process(batch[start : start + 500], lambda tile: HousingContext(), wall=0.0)
        for f in out.fired:
            a, ms = f.change.alert, lambda t: round((t - T0.timestamp()) * 1000)
            if f.rule.id not in {"power-outage", "water-outage"}:
                continue
            if f.change.change is Change.OPENED:
                opened[a.alert_id] = Owed(int(a.sensor_id[1:]), f.rule.id, ms(a.opened_at), None)
            elif f.change.change is Change.RESOLVED:
                o = opened[a.alert_id]
                opened[a.alert_id] = Owed(o.sensor, o.rule, o.opened_ms, ms(f.change.at))
    return list(opened.values())


def owed(d: District, readings: int) -> list[Owed]:
    return d.owed(d.power, "power-outage", readings, for_ms=3 * MINUTE_MS, clear_ms=2 * MINUTE_MS) + d.owed(
        d.water, "water-outage", readings, for_ms=30 * MINUTE_MS, clear_ms=10 * MINUTE_MS
    )


def test_the_schedule_owes_what_the_rules_raise_to_the_millisecond() -> None:
    d = district(until_ms=2 * HOUR)
    readings = 3 * HOUR // d.step_ms  # an hour of calm at the end
    got = alerts_raised(d, readings)
    expected = owed(d, readings)
    assert len(expected) >= 3 * 8 + 2 * 2
    assert all(o.resolved_ms is not None for o in expected)  # the calm hour resolves everything
    assert judge(expected, got).wrong == []


def test_cut_short_by_the_end_of_the_run_owes_an_open_alert_or_none() -> None:
    d = district()
    readings = (40 * MINUTE_MS) // d.step_ms  # ends inside cuts
    verdict = judge(owed(d, readings), alerts_raised(d, readings))
    assert verdict.wrong == []
    assert any(o.resolved_ms is None for o in owed(d, readings))


def test_a_missing_a_twice_stored_and_a_misdated_alert_are_each_wrong() -> None:
    a, b = Owed(1, "power-outage", 0, 60_000), Owed(2, "power-outage", 20_000, 80_000)
    assert judge([a, b], [a, b]).wrong == []
    assert len(judge([a, b], [a]).wrong) == 1
    assert len(judge([a, b], [a, b, b]).wrong) == 1
    assert len(judge([a, b], [a, Owed(2, "power-outage", 20_000, 100_000)]).wrong) == 2


def test_a_gateways_sensors_owe_one_offline_alert_for_their_silence() -> None:
    d = district()
    gateway = Gateway(range(15, 18), silent_ms=HOUR, back_ms=HOUR + 30 * MINUTE_MS, upload_ms=HOUR + 32 * MINUTE_MS)
    found = d.offline_owed(gateway, "sensor-offline", 2 * HOUR // d.step_ms, silent_ms=15 * MINUTE_MS)
    assert [o.sensor for o in found] == [15, 16, 17]
    for o in found:
        assert o.opened_ms < HOUR <= o.opened_ms + d.interval_ms
        assert o.resolved_ms is not None
        assert HOUR + 30 * MINUTE_MS <= o.resolved_ms < HOUR + 30 * MINUTE_MS + d.interval_ms
    assert gateway.holds(15, HOUR)
    assert not gateway.holds(15, HOUR + 30 * MINUTE_MS)
    assert not gateway.holds(14, HOUR)
