"""One message for many, past a subscriber's hourly limit."""

from __future__ import annotations

from datetime import UTC, datetime

from notify.digest import digest
from vigia import gsm

NOW = datetime(2026, 2, 3, 20, 0, tzinfo=UTC)


def held(title_es: str, severity: str, opened: str = "2026-02-03T19:10:00+00:00") -> dict[str, object]:
    return {
        "alert": {"rule": "r", "title_es": title_es, "title_en": title_es, "severity": severity, "opened_at": opened}
    }


def test_the_digest_counts_each_kind_most_severe_first_since_the_oldest() -> None:
    rows = [held("Voltaje bajo", "warning"), held("Sin agua", "critical"), held("Sin agua", "critical"),
            held("Corte de luz", "warning", "2026-02-03T18:00:00+00:00")]  # fmt: skip
    assert digest(rows, "es", NOW, short=True) == (
        "Vigia: 4 avisos mas desde 13:00: Sin agua x2 (URGENTE), Corte de luz x1, Voltaje bajo x1. "
        "Detalle en la web de Vigia."
    )


def test_a_phone_digest_fits_one_sms_by_leaving_kinds_out_and_saying_how_many() -> None:
    rows = [held(f"Aviso de prueba numero {n}", "warning") for n in range(12)]
    text = digest(rows, "es", NOW, short=True)
    assert gsm.length(text) <= 160
    assert " mas. Detalle" in text
    assert len(digest(rows, "es", NOW, short=False)) > 160
