from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from stream.alerts import Change
from stream.processor import Processor
from stream.reconcile import Stored
from stream.rules import load_rules
from vigia.contracts import HousingContext, Metric, Reading, Severity
from vigia.reading_records import FlatReading

T0 = datetime(2026, 3, 2, 14, 10, tzinfo=UTC)
PRECARIOUS = HousingContext(housing_score=0.9, precarious_share=1.0, land_use_class="mobilehomepark")


def reading(
    minute: float, value: float, sensor: str = "sjl-water-01", metric: Metric = Metric.WATER_PRESSURE
) -> FlatReading:
    return FlatReading.of(Reading(
        sensor_id=sensor, district="sjl", tile_id="17/1/1", metric=metric, value=value, unit="bar",
        event_time=T0 + timedelta(minutes=minute), received_at=T0,
    ))  # fmt: skip


def processor() -> Processor:
    return Processor(load_rules(), pane=60, window=900, lateness=120)


def test_an_outage_gives_rows_and_one_critical_alert_in_any_arrival_order() -> None:
    p = processor()
    batch = [reading(m, 0.0) for m in range(40)]
    out = p.process(list(reversed(batch)), lambda tile: PRECARIOUS, wall=0.0)
    assert out.folded == 40
    assert len(out.panes) == 40
    assert all(h.housing_score == 0.9 for _, h in out.panes)
    opened = [f for f in out.fired if f.change.change is Change.OPENED]
    assert [(f.rule.id, f.change.alert.severity) for f in opened] == [("water-outage", Severity.CRITICAL)]
    assert opened[0].change.at == T0.timestamp()


def test_late_readings_are_kept_aside_and_drive_no_rule() -> None:
    p = processor()
    p.process([reading(30, 1.5)], lambda tile: HousingContext(), wall=0.0)
    out = p.process([reading(20, 0.0)], lambda tile: HousingContext(), wall=0.0)
    assert [r.value for r in out.late] == [0.0]
    assert out.folded == 0
    assert out.panes == []


def test_a_failed_batch_is_forgotten_so_its_retry_counts_once() -> None:
    p = processor()
    batch = [reading(m, 0.0) for m in range(35)]
    snapshot = p.snapshot()
    first = p.process(batch, lambda tile: PRECARIOUS, wall=0.0)
    assert any(f.change.change is Change.OPENED for f in first.fired)
    p.rollback(batch, snapshot)
    retry = p.process(batch, lambda tile: PRECARIOUS, wall=0.0)
    assert any(f.change.change is Change.OPENED for f in retry.fired)  # announced again, not lost
    assert sum(row.summary.count for row, _ in retry.panes) == 35


def test_staleness_ticks_on_the_stream_clock() -> None:
    p = processor()
    assert p.tick(0.0, lambda tile: HousingContext()) == []
    p.process([reading(0, 1.5)], lambda tile: HousingContext(), wall=1000.0)
    assert p.tick(1000.0 + 14 * 60, lambda tile: HousingContext()) == []
    (offline,) = p.tick(1000.0 + 15 * 60, lambda tile: HousingContext())
    assert offline.rule.id == "sensor-offline"


def test_a_sensor_holds_a_bounded_number_of_panes_however_long_it_reports() -> None:
    p = processor()
    most = 0
    for hour in range(72):  # three days, a reading a minute, an hour a batch
        batch = [reading(hour * 60 + m, 1.2, sensor=f"s{s}") for s in range(3) for m in range(60)]
        out = p.process(batch, lambda tile: HousingContext(), wall=0.0)
        most = max(most, *(len(p.windows.panes((f"s{s}", "water_pressure"))) for s in range(3)))
        assert out.hopping[-1][0].summary.count == 15  # the fifteen-minute window is still whole
    assert most <= (900 + 120) // 60 + 2  # a hopping window and the lateness, not three days
    assert out.evicted == 3 * 60


def test_a_pane_a_late_reading_can_still_reach_is_kept() -> None:
    p = processor()
    p.process([reading(m, 1.0) for m in range(30)], lambda tile: HousingContext(), wall=0.0)
    out = p.process([reading(28.5, 3.0)], lambda tile: HousingContext(), wall=0.0)  # 90 s behind: within lateness
    assert out.late == []
    (row, _) = out.panes[0]
    assert row.summary.count == 2


def test_state_follows_partitions_and_silence_is_judged_by_the_owner_only() -> None:
    p = processor()
    p.restore_open_alerts({"mine", "theirs"}, [])
    p.note_partitions({"mine": 0, "theirs": 1})
    p.process(
        [reading(m, 0.0, sensor="mine") for m in range(35)] + [reading(m, 0.0, sensor="theirs") for m in range(35)],
        lambda tile: HousingContext(), wall=1000.0,
    )  # fmt: skip
    assert {sensor for sensor, _ in p.rules.alerts.open} == {"mine", "theirs"}
    assert p.own({0}) == {"theirs"}  # partition 1 went to another worker
    assert {sensor for sensor, _ in p.rules.alerts.open} == {"mine"}
    assert not p.windows.knows(("theirs", "water_pressure"))
    assert p.new_sensors([reading(40, 0.0, sensor="theirs")]) == {"theirs"}  # loaded again if it returns
    assert p.new_sensors([reading(40, 0.0, sensor="mine")]) == set()
    silent = p.tick(1000.0 + 3600, lambda tile: HousingContext())
    assert {f.change.alert.sensor_id for f in silent} == {"mine"}  # not "theirs": its owner judges it


def test_a_failed_batch_loads_its_sensors_alerts_again_on_the_retry() -> None:
    p = processor()
    batch = [reading(m, 0.0) for m in range(5)]
    p.restore_open_alerts({"sjl-water-01"}, [])
    snapshot = p.snapshot()
    p.process(batch, lambda tile: HousingContext(), wall=0.0)
    p.rollback(batch, snapshot)
    assert p.new_sensors(batch) == {"sjl-water-01"}


def test_a_condition_that_began_before_the_sensor_came_here_fires_on_time() -> None:
    p = processor()
    p.restore_open_alerts({"sjl-water-01"}, [])
    batch = [reading(m, 0.0) for m in range(20, 31)]  # this worker's first readings of the sensor
    spans = p.history_spans(batch, {"sjl-water-01"})
    assert spans == [("sjl-water-01", "water_pressure", (T0 + timedelta(minutes=20)).timestamp() - 30 * 60,
                      (T0 + timedelta(minutes=20)).timestamp())]  # fmt: skip
    earlier = [((T0 + timedelta(minutes=m)).timestamp(), 1.5 if m < 0 else 0.0) for m in range(-10, 20)]
    p.prime({("sjl-water-01", "water_pressure"): earlier})
    out = p.process(batch, lambda tile: HousingContext(), wall=0.0)
    (opened,) = [f for f in out.fired if f.change.change is Change.OPENED]
    assert opened.change.at == T0.timestamp()  # dated from the first dry reading, stored by another worker
    assert opened.change.alert.updated_at == (T0 + timedelta(minutes=30)).timestamp()  # fired at 30 min, not 50


def test_without_its_history_the_same_batch_fires_nothing_yet() -> None:
    p = processor()
    out = p.process([reading(m, 0.0) for m in range(20, 31)], lambda tile: HousingContext(), wall=0.0)
    assert out.fired == []  # eleven dry minutes seen here: the rule needs thirty


def test_a_gateways_buffer_refolds_its_windows_and_reveals_the_outage_it_held() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    volts = {m: 0.0 if 70 <= m < 100 else 221.0 for m in range(130)}

    def power(minute: int) -> FlatReading:
        return reading(minute, volts[minute], sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    stored = [power(m) for m in [*range(60), *range(120, 130)]]  # live: the hour before, then after the link returned
    p.process(stored, lambda tile: HousingContext(), wall=0.0)
    buffer = [power(m) for m in range(60, 120)]
    reach = p.refold_reach(buffer)
    assert [(first, last) for _, first, last in reach] == [
        ((T0 + timedelta(minutes=46)).timestamp(), (T0 + timedelta(minutes=133)).timestamp())
    ]
    out = p.process(buffer, lambda tile: HousingContext(), wall=0.0)
    assert len(out.refolded) == 60
    assert out.late == []
    assert out.fired == []
    assert {row.start for row, _ in out.panes} == {(T0 + timedelta(minutes=m)).timestamp() for m in range(60, 120)}
    (span,) = p.replay_spans(out.refolded)
    since, until = (T0 + timedelta(minutes=60 - 15)).timestamp(), (T0 + timedelta(minutes=119 + 25)).timestamp()
    assert span[2:] == (since, until)  # low-voltage, the longest: 15 minutes to fire, 10 to clear
    every = sorted(stored + buffer, key=lambda r: r.event_time)
    history = [(r.event_time.timestamp(), r.value) for r in every if span[2] <= r.event_time.timestamp() < span[3]]
    revealed = p.revealed({("sjl-power-01", "mains_voltage"): history}, {}, lambda tile: HousingContext())
    outage = [
        (opened.change.change, opened.change.at, resolved.change.change, resolved.change.at)
        for opened, resolved in revealed.episodes
        if opened.rule.id == "power-outage"
    ]
    assert outage == [
        (Change.OPENED, (T0 + timedelta(minutes=70)).timestamp(), Change.RESOLVED,
         (T0 + timedelta(minutes=100)).timestamp()),
    ]  # fmt: skip
    assert p.rules.alerts.open == {}  # nothing left open: the outage is over


def test_the_windows_of_a_late_reading_are_written_with_what_was_stored_around_it() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    p.process([reading(m, 1.0) for m in range(60)], lambda tile: HousingContext(), wall=0.0)
    assert p.windows.evict() == 0  # the batch already dropped what no live reading reaches
    assert not p.windows.panes(("sjl-water-01", "water_pressure")).get((T0 + timedelta(minutes=30)).timestamp())
    late = [reading(30.5, 0.1)]
    (_, first, last) = p.refold_reach(late)[0]
    stored = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=0)
    stored.windows.evict = lambda keys=None: 0  # type: ignore[method-assign]  # keep every pane, as the database does
    stored.process([reading(m, 1.0) for m in range(60)], lambda tile: HousingContext(), wall=0.0)
    key = ("sjl-water-01", "water_pressure")
    p.adopt_panes({key: {s: pane for s, pane in stored.windows.panes(key).items() if first <= s <= last}})
    out = p.process(late, lambda tile: HousingContext(), wall=0.0)
    (pane,) = out.panes
    assert (pane[0].summary.count, pane[0].summary.min) == (2, 0.1)
    assert len(out.hopping) == 15
    assert all(row.summary.count == 16 for row, _ in out.hopping)


def test_a_replay_reaches_back_to_where_its_condition_began_but_not_past_the_horizon() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=6 * 3600)
    p.process([reading(600, 1.5)], lambda tile: HousingContext(), wall=0.0)  # the sensor's newest: minute 600
    t = (T0 + timedelta(minutes=500)).timestamp()
    spans = [("sjl-water-01", "water_pressure", t - 1800, t + 2400)]
    dry = {("sjl-water-01", "water_pressure"): [(t - 1800, 0.0), (t, 0.0)]}
    (back,) = p.reach_back(spans, dry)
    assert back[2:] == (t - 1800 - 4200, t + 2400)  # twice the span
    (further,) = p.reach_back([back], dry)
    assert further[2] == (T0 + timedelta(minutes=260)).timestamp()
    (floor,) = p.reach_back([further], dry)
    assert floor[2] == (T0 + timedelta(minutes=600 - 360)).timestamp()  # the horizon
    assert p.reach_back([floor], dry) == []  # no further
    wet = {("sjl-water-01", "water_pressure"): [(t - 1800, 1.4), (t, 0.0)]}
    assert p.reach_back(spans, wet) == []  # the condition's start is in view


def test_a_buffer_that_shows_an_open_outage_began_earlier_redates_its_alert() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)

    def power(minute: int, volts: float) -> FlatReading:
        return reading(minute, volts, sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    p.process([power(m, 221.0) for m in range(30)], lambda tile: HousingContext(), wall=0.0)  # then the link fails
    live = p.process([power(m, 0.0) for m in range(50, 55)], lambda tile: HousingContext(), wall=0.0)  # back, dark
    (opened,) = [f for f in live.fired if f.rule.id == "power-outage"]
    assert opened.change.at == (T0 + timedelta(minutes=50)).timestamp()  # all the live readings can say
    buffer = [power(m, 221.0 if m < 40 else 0.0) for m in range(30, 50)]  # the cut began at minute 40
    out = p.process(buffer, lambda tile: HousingContext(), wall=0.0)
    history = [(r.event_time.timestamp(), r.value) for r in [power(m, 221.0) for m in range(15, 40)]
               + [power(m, 0.0) for m in range(40, 55)]]  # fmt: skip
    span = p.replay_spans(out.refolded)
    assert span[0][3] >= history[-1][0]
    replayed = p.revealed({("sjl-power-01", "mains_voltage"): history}, {}, lambda tile: HousingContext())
    assert replayed.episodes == []  # still going on: the live rules' to resolve
    assert replayed.redated == [(opened.change.alert.alert_id, (T0 + timedelta(minutes=40)).timestamp())]
    assert p.rules.alerts.open[("sjl-power-01", "power-outage")].opened_at == (T0 + timedelta(minutes=40)).timestamp()
    again = p.revealed({("sjl-power-01", "mains_voltage"): history}, {}, lambda tile: HousingContext())
    assert again.redated == []  # already dated right


def test_an_alert_that_was_clearing_when_its_sensor_moved_here_resolves_on_time() -> None:
    from stream.alerts import OpenAlert, alert_id

    p = processor()
    opened = T0.timestamp()
    moved = OpenAlert(
        alert_id=alert_id("sjl-water-01", "water-outage", opened), rule_id="water-outage", sensor_id="sjl-water-01",
        metric="water_pressure", severity=Severity.WARNING, opened_at=opened, updated_at=opened + 1800,
        value=0.0, detail="",
    )  # fmt: skip
    p.restore_open_alerts({"sjl-water-01"}, [moved])
    stored = [((T0 + timedelta(minutes=m)).timestamp(), 0.0 if m < 40 else 1.4) for m in range(20, 46)]
    p.prime({("sjl-water-01", "water_pressure"): stored})  # the water came back at minute 40, elsewhere
    out = p.process([reading(50, 1.4)], lambda tile: HousingContext(), wall=0.0)
    (resolved,) = [f for f in out.fired if f.change.change is Change.RESOLVED]
    assert resolved.change.at == (T0 + timedelta(minutes=40)).timestamp()  # ten minutes clear by minute 50


def test_a_partition_read_behind_the_others_has_its_sensors_judged_on_its_own_clock() -> None:
    p = processor()
    p.note_partitions({"ahead": 0, "behind": 1})
    p.process([reading(0, 1.5, sensor="behind"), reading(0, 1.5, sensor="ahead")], lambda tile: HousingContext(),
              wall=1000.0)  # fmt: skip
    p.process([reading(m, 1.5, sensor="ahead") for m in range(1, 40)], lambda tile: HousingContext(), wall=1001.0)
    silent = p.tick(1002.0, lambda tile: HousingContext())
    assert silent == []  # read behind partition 0, not silent: its own clock says two seconds
    later = p.tick(1000.5 + 15 * 60, lambda tile: HousingContext())
    assert {f.change.alert.sensor_id for f in later} == {"behind"}  # fifteen minutes of nothing on partition 1


def test_an_alert_the_live_readings_made_of_a_gap_is_withdrawn_by_the_buffer() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    volts = {m: 0.0 if 4 <= m < 10 or m >= 40 else 221.0 for m in range(50)}

    def power(minute: int) -> FlatReading:
        return reading(minute, volts[minute], sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    p.process([power(m) for m in range(10)], lambda tile: HousingContext(), wall=0.0)  # then the link fails
    live = p.process([power(m) for m in range(40, 43)], lambda tile: HousingContext(), wall=0.0)
    (bogus,) = [f for f in live.fired if f.rule.id == "low-voltage"]  # "dark since minute 4": the gap hid the light
    assert bogus.change.at == (T0 + timedelta(minutes=4)).timestamp()
    out = p.process([power(m) for m in range(10, 40)], lambda tile: HousingContext(), wall=0.0)
    history = [(power(m).event_time.timestamp(), volts[m]) for m in range(43)]
    assert p.replay_spans(out.refolded)[0][3] > history[-1][0]  # the replay runs on to the newest reading
    replayed = p.revealed({("sjl-power-01", "mains_voltage"): history}, {}, lambda tile: HousingContext())
    assert [f for f in replayed.settled if f.rule.id == "low-voltage"] == []
    assert replayed.withdrawn == [(bogus.change.alert.alert_id, history[-1][0])]  # light was back at minute 10
    assert ("sjl-power-01", "low-voltage") not in p.rules.alerts.open


def test_an_outage_the_live_readings_saw_too_briefly_is_opened_by_the_buffer() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    volts = {m: 0.0 if 37 <= m < 43 else 221.0 for m in range(50)}

    def power(minute: int) -> FlatReading:
        return reading(minute, volts[minute], sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    p.process([power(m) for m in range(30)], lambda tile: HousingContext(), wall=0.0)
    live = p.process([power(m) for m in range(40, 43)], lambda tile: HousingContext(), wall=0.0)
    assert [f for f in live.fired if f.rule.id == "power-outage"] == []  # two minutes dark: not yet three
    out = p.process([power(m) for m in range(30, 40)], lambda tile: HousingContext(), wall=0.0)
    history = [(power(m).event_time.timestamp(), volts[m]) for m in range(15, 43)]
    replayed = p.revealed({("sjl-power-01", "mains_voltage"): history}, {}, lambda tile: HousingContext())
    (opened,) = [f for f in replayed.settled if f.rule.id == "power-outage"]
    assert (opened.change.change, opened.change.at) == (Change.OPENED, (T0 + timedelta(minutes=37)).timestamp())
    assert p.rules.alerts.open[("sjl-power-01", "power-outage")].alert_id == opened.change.alert.alert_id
    later = p.process([power(m) for m in range(43, 46)], lambda tile: HousingContext(), wall=0.0)
    (resolved,) = [f for f in later.fired if f.rule.id == "power-outage"]  # the live rules carry it on
    assert (resolved.change.change, resolved.change.at) == (Change.RESOLVED, (T0 + timedelta(minutes=43)).timestamp())
    assert len(out.refolded) == 10  # minutes 30..39: more than two minutes behind minute 42


def test_two_cuts_a_gap_made_one_are_split_as_the_buffer_fills_it() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    volts = {m: 0.0 if 40 <= m < 46 or m >= 60 else 221.0 for m in range(70)}

    def power(minute: int) -> FlatReading:
        return reading(minute, volts[minute], sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    def history(minutes: list[int]) -> dict[tuple[str, str], list[tuple[float, float]]]:
        return {("sjl-power-01", "mains_voltage"): [(power(m).event_time.timestamp(), volts[m]) for m in minutes]}

    def at(minute: int) -> float:
        return (T0 + timedelta(minutes=minute)).timestamp()

    p.process([power(m) for m in range(30)], lambda tile: HousingContext(), wall=0.0)  # then the link fails
    live = p.process([power(m) for m in range(62, 66)], lambda tile: HousingContext(), wall=0.0)
    (opened,) = [f for f in live.fired if f.rule.id == "power-outage"]
    live_id = opened.change.alert.alert_id
    stored = {"sjl-power-01": {"power-outage": [Stored(live_id, opened.change.at, None)]}}
    p.process([power(m) for m in range(30, 44)], lambda tile: HousingContext(), wall=0.0)  # the first piece
    first = p.revealed(history([*range(15, 44), *range(62, 66)]), stored, lambda tile: HousingContext())
    assert first.episodes == []
    assert first.redated == [(live_id, at(40))]  # the gap reads as one cut from minute 40
    (long_dark,) = [f for f in first.settled if f.rule.id == "low-voltage"]  # 25 minutes dark, it seems
    stored = {"sjl-power-01": {"power-outage": [Stored(live_id, at(40), None)]}}
    p.process([power(m) for m in range(44, 62)], lambda tile: HousingContext(), wall=0.0)  # the rest
    rest = p.revealed(history(list(range(15, 66))), stored, lambda tile: HousingContext())
    cuts = [(o.change.at, r.change.at) for o, r in rest.episodes if o.rule.id == "power-outage"]
    assert cuts == [(at(40), at(46))]  # the first cut, a new alert of its own
    assert rest.redated == [(live_id, at(60))]  # the alert leaders heard of is the second cut's
    assert p.rules.alerts.open[("sjl-power-01", "power-outage")].opened_at == at(60)
    assert rest.withdrawn == [(long_dark.change.alert.alert_id, at(65))]  # two cuts of six minutes: never low


def test_a_resolved_alert_the_buffer_moves_is_corrected_and_one_it_refutes_withdrawn() -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
    volts = {m: 0.0 if 40 <= m < 46 else 221.0 for m in range(80)}

    def power(minute: int) -> FlatReading:
        return reading(minute, volts[minute], sensor="sjl-power-01", metric=Metric.MAINS_VOLTAGE)

    def at(minute: int) -> float:
        return (T0 + timedelta(minutes=minute)).timestamp()

    p.process([power(m) for m in range(70, 80)], lambda tile: HousingContext(), wall=0.0)
    stored = {
        "sjl-power-01": {
            "power-outage": [Stored("cut", at(41), at(50)), Stored("ghost", at(55), at(58)),
                             Stored("told", at(62), at(66), by_hand=True)],
        }
    }  # fmt: skip
    history = {("sjl-power-01", "mains_voltage"): [(power(m).event_time.timestamp(), volts[m]) for m in range(30, 80)]}
    replayed = p.revealed(history, stored, lambda tile: HousingContext())
    assert replayed.episodes == []
    assert replayed.corrected == [("cut", at(40), at(46))]
    assert replayed.withdrawn == [("ghost", at(79))]  # a person acted on "told": it stays


def test_a_backlog_read_in_order_loads_no_stored_panes() -> None:
    p = processor()
    p.process([reading(m, 1.0) for m in range(10)], lambda tile: HousingContext(), wall=0.0)
    backlog = [reading(m / 6, 1.0) for m in range(60, 6 * 60)]  # fifty minutes, ten seconds apart
    assert p.refold_reach(list(reversed(backlog))) == []  # in any arrival order: folded in event time
    out = p.process(backlog, lambda tile: HousingContext(), wall=0.0)
    assert out.refolded == []
    assert out.folded == len(backlog)


@settings(max_examples=200, deadline=None)
@given(
    first=st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 600)), min_size=1, max_size=30),
    second=st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 600)), min_size=1, max_size=30),
)
def test_every_pane_a_batch_refolds_was_asked_for(first: list[tuple[str, int]], second: list[tuple[str, int]]) -> None:
    p = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)

    def batch(items: list[tuple[str, int]]) -> list[FlatReading]:
        return [reading(minute / 2, 1.0, sensor=f"sjl-water-{who}") for who, minute in items]

    p.process(batch(first), lambda tile: HousingContext(), wall=0.0)
    later = batch(second)
    reach = {(key[0], key[1]): (lo, hi) for key, lo, hi in p.refold_reach(later)}
    out = p.process(later, lambda tile: HousingContext(), wall=0.0)
    for refolded in out.refolded:
        lo, hi = reach[(refolded.sensor_id, refolded.metric)]
        first_pane, last_pane = p.windows.reach(refolded.ts)
        assert lo <= first_pane
        assert last_pane <= hi
