"""The district report draws its plots, the priorities and the continuity evidence, in either language, as HTML
and as PDF."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from api.continuity_models import (
    Continuity,
    DailySupply,
    InterruptionOut,
    SemesterEvidence,
    SemesterService,
    ServiceSummary,
    SupplyPointOut,
    Tolerance,
)
from api.priorities import AlertSpan, TileFacts, rank
from api.report import ReportData, to_html, to_pdf
from api.report_text import WORDS

END = datetime(2026, 11, 20, tzinfo=UTC)
OUTAGE = AlertSpan("water-outage", "critical", 5, True)


def data(**changes: object) -> ReportData:
    fields: dict[str, object] = {
        "district": "villa <el> salvador",
        "start": END - timedelta(days=2),
        "end": END,
        "alerts_per_day": [
            {"day": END - timedelta(days=2), "severity": "critical", "alerts": 2},
            {"day": END - timedelta(days=1), "severity": "warning", "alerts": 3},
        ],
        "uptime": [{"sensor_id": "vs-water-01", "sensor_type": "water", "minutes": 2880},
                   {"sensor_id": "vs-power-02", "sensor_type": "power", "minutes": 0}],
        "housing": [{"tile_id": "17/1/1", "housing_score": 0.8, "land_use_class": "mobilehomepark"}],
        "priorities": rank([TileFacts("17/1/1", "vs", 0.8, "mobilehomepark", [OUTAGE])]),
    }  # fmt: skip
    fields.update(changes)
    return ReportData(**fields)  # type: ignore[arg-type]


def test_the_html_report_has_its_plots_summary_and_priorities_with_names_escaped() -> None:
    page = to_html(data())
    assert page.count("<svg") == 4
    assert '<html lang="en">' in page
    assert "villa &lt;el&gt; salvador" in page
    assert "villa <el>" not in page
    assert "5 (2 critical)" in page
    assert "2 (1 silent all period)" in page
    assert "17/1/1" in page


def test_an_empty_period_still_makes_a_report() -> None:
    page = to_html(data(alerts_per_day=[], uptime=[], housing=[], priorities=[]))
    assert "no alerts in the period" in page
    assert page.count("<svg") == 4


def test_the_pdf_has_a_cover_and_one_page_per_plot() -> None:
    pdf = to_pdf(data())
    assert pdf.startswith(b"%PDF")
    assert b"/Count 5" in pdf  # the page tree: a cover and four plots


CUT = InterruptionOut(
    sensor_id="vs-power-02", tile_id="17/1/1", started=END - timedelta(hours=30), ended=END - timedelta(hours=25),
    minutes=300, unobserved_minutes=0, compensable=True,
)  # fmt: skip


def evidence() -> tuple[Continuity, SemesterEvidence]:
    quiet = ServiceSummary(count=0, total_minutes=0, longest_minutes=0, compensable=0, sensors=1, interruptions=[])
    power = ServiceSummary(
        count=1, total_minutes=300, longest_minutes=300, compensable=1, sensors=1, interruptions=[CUT]
    )
    period = Continuity(
        district="vs", start=END - timedelta(days=2), end=END, rules={}, power=power, water=quiet, cuts=[],
        water_supply=[DailySupply(day=END.date(), hours=7.5, observed_hours=23.0, sensors=1)],
    )  # fmt: skip
    tolerance = Tolerance(interruptions=0, hours=2.0, set_by="ana", set_at=END)
    over = SemesterService(
        count=1, total_hours=5, compensable=1, announced=0, tolerance=tolerance, over_tolerance=1,
        supply_points=[SupplyPointOut(sensor_id="vs-power-02", tile_id="17/1/1", interruptions=1, hours=5.0,
                                      over_tolerance=True)],
    )  # fmt: skip
    unset = SemesterService(
        count=0, total_hours=0, compensable=0, announced=0, tolerance=None, over_tolerance=0, supply_points=[]
    )
    half = SemesterEvidence(district="vs", semester="2026-II", start=END, end=END, power=over, water=unset)
    return period, half


def test_the_continuity_evidence_and_the_semester_beside_its_tolerance_are_in_the_report() -> None:
    period, half = evidence()
    page = to_html(data(continuity=period, semester=half, places={"17/1/1": "Mz. C"}, language="en"))
    assert page.count("<svg") == 5  # the four plots and the power supply points against the tolerance
    assert "Power cuts over 4 hours (compensable)" in page
    assert "<td>Mz. C (17/1/1)</td><td>vs-power-02</td>" in page
    assert "N ≤ 0 interruptions and D ≤ 2 h per supply point" in page
    assert "not set by an operator" in page  # water
    assert "<td>7.5</td>" in page  # hours of water that day
    assert "announced 48 hours ahead" in page


def test_the_spanish_report_says_it_all_in_spanish() -> None:
    period, half = evidence()
    page = to_html(data(continuity=period, semester=half, language="es"))
    assert '<html lang="es">' in page
    for words in ("Informe del distrito", "Continuidad del servicio", "Cortes de luz de más de 4 horas",
                  "Semestre 2026-II", "Tolerancia", "sin fijar por un operador", "hora de Lima"):  # fmt: skip
        assert words in page
    english = set(WORDS["en"].values()) - set(WORDS["es"].values())
    leaks = [w for w in english if len(w) > 6 and re.search(rf"\b{re.escape(w)}\b", page)]
    assert leaks == []


def test_both_languages_have_every_word() -> None:
    assert WORDS["es"].keys() == WORDS["en"].keys()


def test_the_pdf_carries_the_continuity_pages_too() -> None:
    period, half = evidence()
    pdf = to_pdf(data(continuity=period, semester=half, language="es"))
    assert b"/Count 6" in pdf  # one page of text, four plots and the semester's
