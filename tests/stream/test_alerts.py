from stream.alerts import AlertBook, Change, alert_id
from stream.conditions import Condition, State
from vigia.contracts import Severity

KEY = {"rule_id": "water-outage", "sensor_id": "sjl-water-01", "metric": "water_pressure", "clear_seconds": 600.0}


def fire(book: AlertBook, at: float, since: float = 0.0, severity: Severity = Severity.WARNING):  # type: ignore[no-untyped-def]
    return book.apply(condition=Condition(State.FIRING, at, since, 0.0), severity=severity, **KEY)


def clear(book: AlertBook, at: float):  # type: ignore[no-untyped-def]
    return book.apply(condition=Condition(State.CLEAR, at, value=1.5), severity=Severity.WARNING, **KEY)


def test_one_alert_per_sensor_and_rule_updated_not_duplicated() -> None:
    book = AlertBook(update_every=300)
    opened = fire(book, 1800)
    assert opened is not None
    assert opened.change is Change.OPENED
    assert opened.at == 0.0  # dated from when the water stopped
    assert fire(book, 1860) is None  # quiet re-fire
    later = fire(book, 1800 + 300)
    assert later is not None
    assert later.change is Change.UPDATED
    assert later.alert.alert_id == opened.alert.alert_id
    assert len(book.open) == 1


def test_severity_change_is_announced_at_once() -> None:
    book = AlertBook()
    fire(book, 1800)
    change = fire(book, 1810, severity=Severity.CRITICAL)
    assert change is not None
    assert change.change is Change.UPDATED
    assert change.alert.severity is Severity.CRITICAL


def test_resolves_after_clear_for_the_set_time_dated_from_the_clearing() -> None:
    book = AlertBook()
    fire(book, 1800)
    assert clear(book, 2000) is None
    assert clear(book, 2000 + 599) is None
    resolved = clear(book, 2000 + 600)
    assert resolved is not None
    assert resolved.change is Change.RESOLVED
    assert resolved.at == 2000
    assert not book.open
    assert clear(book, 5000) is None


def test_a_relapse_restarts_the_clear_countdown() -> None:
    book = AlertBook()
    fire(book, 1800)
    clear(book, 2000)
    book.apply(condition=Condition(State.HOLDING, 2300, 2300, 0.0), severity=Severity.WARNING, **KEY)
    assert clear(book, 2400) is None
    assert clear(book, 2000 + 600) is None  # the countdown started again at 2400
    resolved = clear(book, 2400 + 600)
    assert resolved is not None
    assert resolved.change is Change.RESOLVED


def test_ids_are_stable_for_a_replay() -> None:
    first, second = AlertBook(), AlertBook()
    a, b = fire(first, 1800), fire(second, 1800)
    assert a is not None
    assert b is not None
    assert a.alert.alert_id == b.alert.alert_id == alert_id("sjl-water-01", "water-outage", 0.0)


def test_an_alert_resolved_by_hand_is_followed_in_silence_until_its_condition_clears() -> None:
    book = AlertBook(update_every=300)
    opened = fire(book, 1800)
    assert opened is not None
    book.resolved_by_hand({opened.alert.alert_id})
    assert fire(book, 1800 + 300) is None  # no "continúa" for what a person closed
    assert fire(book, 1800 + 900, severity=Severity.CRITICAL) is None
    assert clear(book, 3000) is None
    assert clear(book, 3000 + 600) is None  # and no second "resuelto"
    assert book.open == {}
    again = fire(book, 9000, since=7200)  # the condition begins anew: a new alert
    assert again is not None
    assert again.change is Change.OPENED
    assert again.alert.alert_id != opened.alert.alert_id


def test_resolving_by_hand_touches_only_the_alerts_named() -> None:
    book = AlertBook(update_every=300)
    opened = fire(book, 1800)
    assert opened is not None
    book.resolved_by_hand({"some-other-alert"})
    later = fire(book, 1800 + 300)
    assert later is not None
    assert later.change is Change.UPDATED
