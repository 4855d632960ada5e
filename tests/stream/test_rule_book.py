"""The shipped rules over simulated sensors: the alerts a community leader would get, and when."""

from stream.alerts import Change
from stream.lane import Place
from stream.rule_book import Fired, RuleBook
from stream.rules import load_rules
from vigia.contracts import HousingContext, Severity

PLACE = Place("sjl", "17/37510/69939")
PRECARIOUS = HousingContext(housing_score=0.8, precarious_share=0.7, land_use_class="mobilehomepark")
CONSOLIDATED = HousingContext(housing_score=0.3, precarious_share=0.0, land_use_class="mediumresidential")


def pressure(book: RuleBook, minutes: range, value: float, housing: HousingContext) -> list[Fired]:
    fired: list[Fired] = []
    for m in minutes:
        fired += book.on_reading("sjl-water-01", "water_pressure", value, m * 60.0, PLACE, housing)
    return fired


def test_water_outage_under_precarious_roofs_is_critical_then_resolves_when_supply_returns() -> None:
    book = RuleBook(load_rules())
    assert pressure(book, range(0, 10), 1.4, PRECARIOUS) == []
    outage = pressure(book, range(10, 45), 0.02, PRECARIOUS)
    opened = [f for f in outage if f.change.change is Change.OPENED]
    assert len(opened) == 1
    assert opened[0].rule.id == "water-outage"
    assert opened[0].change.alert.severity is Severity.CRITICAL
    assert opened[0].change.at == 10 * 60.0  # "sin agua desde" the first dry reading
    back = pressure(book, range(45, 60), 1.3, PRECARIOUS)
    resolved = [f for f in back if f.change.change is Change.RESOLVED]
    assert len(resolved) == 1
    assert resolved[0].change.at == 45 * 60.0


def test_the_same_outage_in_consolidated_housing_is_a_warning() -> None:
    book = RuleBook(load_rules())
    opened = [f for f in pressure(book, range(0, 40), 0.0, CONSOLIDATED) if f.change.change is Change.OPENED]
    assert [f.change.alert.severity for f in opened] == [Severity.WARNING]


def test_a_silent_sensor_goes_offline_on_the_stream_clock_and_comes_back() -> None:
    book = RuleBook(load_rules())
    book.on_reading("sjl-power-01", "mains_voltage", 221.0, 0.0, PLACE, CONSOLIDATED)
    assert book.tick(lambda sensor: 14 * 60.0, lambda tile: CONSOLIDATED) == []
    (offline,) = book.tick(lambda sensor: 15 * 60.0, lambda tile: CONSOLIDATED)
    assert offline.rule.id == "sensor-offline"
    assert offline.change.change is Change.OPENED
    assert offline.change.at == 0.0
    back = book.on_reading("sjl-power-01", "mains_voltage", 220.0, 20 * 60.0, PLACE, CONSOLIDATED)
    assert [f.change.change for f in back if f.rule.id == "sensor-offline"] == []  # clear, counting down
    again = book.on_reading("sjl-power-01", "mains_voltage", 220.0, 21 * 60.0, PLACE, CONSOLIDATED)
    assert [f.change.change for f in again if f.rule.id == "sensor-offline"] == [Change.RESOLVED]


def test_tilt_rising_on_panes() -> None:
    book = RuleBook(load_rules())
    fired: list[Fired] = []
    for m in range(60):
        fired += book.on_pane(
            "sjl-struct-01", "tilt", m * 60.0, 2.0 + m * 0.01, PLACE, PRECARIOUS
        )  # 0.6 degrees per hour
    opened = [f for f in fired if f.change.change is Change.OPENED]
    assert [f.rule.id for f in opened] == ["tilt-rising"]
    assert opened[0].change.alert.severity is Severity.CRITICAL
