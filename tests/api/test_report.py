"""The district report draws its four plots and the priorities, as HTML and as PDF."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.priorities import AlertSpan, TileFacts, rank
from api.report import ReportData, to_html, to_pdf

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
