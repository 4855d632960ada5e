"""Alert messages a leader can act on: what, where, since when on Lima's clock, in Spanish and English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notify.messages import render, span
from vigia.contracts import Alert, AlertState, HousingContext, Severity

OPENED = datetime(2026, 2, 3, 19, 10, tzinfo=UTC)  # 14:10 in Lima


def outage(**changes: object) -> Alert:
    fields: dict[str, object] = {
        "alert_id": "a1", "rule": "water-outage", "sensor_id": "sjl-water-07", "metric": "water_pressure",
        "district": "san-juan-de-lurigancho", "tile_id": "17/1/1", "severity": Severity.CRITICAL,
        "state": AlertState.OPEN, "opened_at": OPENED, "updated_at": OPENED, "summary": "pressure 0.0 bar",
        "housing": HousingContext(land_use_class="mobilehomepark", housing_score=0.9, precarious_share=0.8),
        "title_es": "Sin agua", "title_en": "No water",
    }  # fmt: skip
    fields.update(changes)
    return Alert.model_validate(fields)


def test_an_opened_outage_reads_as_plain_words_on_lima_time() -> None:
    now = OPENED + timedelta(minutes=5)
    es = render(outage(), "es", place="Manzana C", now=now)
    en = render(outage(), "en", place="Manzana C", now=now)
    assert es.body == "URGENTE: Sin agua en Manzana C (zona de viviendas precarias) desde las 14:10."
    assert en.body == "URGENT: No water at Manzana C (area of precarious housing) since 14:10."
    assert es.subject == "URGENTE: Sin agua - Manzana C"


def test_without_a_place_the_sensor_is_named_and_sound_housing_is_not_called_precarious() -> None:
    alert = outage(severity=Severity.WARNING, housing=HousingContext(precarious_share=0.1))
    body = render(alert, "es", now=OPENED).body
    assert body == "Aviso: Sin agua en sjl-water-07 desde las 14:10."


def test_a_resolved_outage_says_when_it_ended_and_how_long_it_lasted() -> None:
    ended = OPENED + timedelta(hours=2, minutes=30)
    alert = outage(state=AlertState.RESOLVED, change="resolved", changed_at=ended, updated_at=ended)
    body = render(alert, "es", place="Manzana C", now=ended + timedelta(minutes=1)).body
    assert (
        body == "Resuelto: Sin agua en Manzana C (zona de viviendas precarias). Terminó a las 16:40, duró 2 h 30 min."
    )


def test_a_reminder_says_nobody_has_acknowledged_it() -> None:
    body = render(outage(), "en", place="Manzana C", now=OPENED + timedelta(hours=1), reminder=True).body
    assert body.startswith("Reminder URGENT: No water at Manzana C")
    assert "(1 h)" in body
    assert "Nobody has acknowledged it yet." in body


def test_an_alert_from_another_day_names_the_day() -> None:
    body = render(outage(), "es", place="Manzana C", now=OPENED + timedelta(days=1)).body
    assert "desde las 03/02 14:10" in body


def test_spans_read_in_days_hours_and_minutes() -> None:
    assert span(timedelta(days=1, hours=2, minutes=5), "es") == "1 d 2 h 5 min"
    assert span(timedelta(seconds=20), "es") == "menos de 1 min"
    assert span(timedelta(seconds=20), "en") == "under 1 min"


def test_an_update_says_it_is_still_going() -> None:
    body = render(outage(change="updated"), "es", place="Manzana C", now=OPENED + timedelta(minutes=95)).body
    assert body.endswith("desde las 14:10. Continúa (1 h 35 min).")


def test_an_acknowledgement_tells_people_someone_is_on_it() -> None:
    alert = outage(change="acknowledged", state=AlertState.ACKNOWLEDGED)
    assert render(alert, "es", place="Manzana C", now=OPENED).body.startswith("En atención: Sin agua en Manzana C")
    assert render(alert, "en", place="Manzana C", now=OPENED).body.endswith("Someone is on it.")


def test_a_withdrawn_alert_tells_people_it_did_not_happen() -> None:
    later = OPENED + timedelta(hours=1)
    alert = outage(state=AlertState.WITHDRAWN, change="withdrawn", changed_at=later, updated_at=later)
    es = render(alert, "es", place="Manzana C", now=later)
    en = render(alert, "en", place="Manzana C", now=later)
    assert es.body == (
        "Retirado: Sin agua en Manzana C (zona de viviendas precarias), avisado desde las 14:10. "
        "Lecturas que llegaron tarde muestran que no ocurrió."
    )
    assert en.body.startswith("Withdrawn: No water at Manzana C")
    assert es.subject == "Sin agua - Manzana C"
    assert len(es.body) <= 160
