"""The SMS a leader reads: one message, the place in neighbours' words, and the code to answer with."""

from __future__ import annotations

from datetime import timedelta

from notify import phone
from tests.notify.test_messages import OPENED, outage
from vigia import gsm
from vigia.contracts import AlertState

PLACE = "Mz. C, AA.HH. Villa Hermosa"


def test_an_opened_outage_says_what_where_since_when_and_how_to_answer() -> None:
    text = phone.render(outage(), "es", where=PLACE, now=OPENED + timedelta(minutes=3), code="4821")
    assert text == (
        "URGENTE: Sin agua en Mz. C, AA.HH. Villa Hermosa (viviendas precarias) desde 14:10. "
        "Responda OK 4821 si lo atiende, LISTO 4821 si ya se resolvio."
    )
    assert gsm.length(text) <= 160
    english = phone.render(outage(), "en", where=PLACE, now=OPENED, code="4821")
    assert english.endswith("Reply OK 4821 if you are on it, DONE 4821 once fixed.")


def test_spanish_titles_are_folded_to_the_sms_alphabet() -> None:
    alert = outage(title_es="Muro o estructura inclinándose", title_en="Wall tilting")
    text = phone.render(alert, "es", where="Mz. C", now=OPENED, code="4821")
    assert "inclinandose" in text
    gsm.length(text)  # raises if anything outside the alphabet slipped through


def test_a_long_place_name_is_shortened_but_the_reply_code_always_stays() -> None:
    place = "Manzana C, lote 14, Asentamiento Humano Villa Hermosa de Jicamarca, San Antonio de Huarochirí, Lima"
    text = phone.render(outage(), "es", where=place, now=OPENED + timedelta(days=1), code="48213")
    assert gsm.length(text) <= 160
    assert "OK 48213" in text
    assert "Manzana C, lote 14" in text
    assert "viviendas precarias" not in text  # the housing context is the first to go


def test_a_title_too_long_for_one_sms_goes_as_a_concatenated_one_rather_than_lose_the_code() -> None:
    alert = outage(title_es="x" * 170)
    text = phone.render(alert, "es", where=PLACE, now=OPENED, code="4821")
    assert gsm.parts(text) == 2
    assert "OK 4821" in text


def test_resolved_and_acknowledged_messages_ask_for_nothing() -> None:
    ended = OPENED + timedelta(hours=2, minutes=30)
    resolved = outage(state=AlertState.RESOLVED, change="resolved", changed_at=ended, updated_at=ended)
    text = phone.render(resolved, "es", where="Mz. C", now=ended, code="4821")
    assert text == "Resuelto: Sin agua en Mz. C (viviendas precarias). Termino 16:40, duro 2 h 30 min."
    taken = outage(state=AlertState.ACKNOWLEDGED, change="acknowledged")
    text = phone.render(taken, "en", where="Mz. C", now=OPENED, code="4821", by="Rosa Quispe (SMS)")
    assert text == "Being handled: No water at Mz. C (precarious housing) since 14:10. Rosa Quispe (SMS) is on it."


def test_a_still_going_update_says_how_long_it_had_lasted_when_raised_not_when_sent() -> None:
    update = outage(change="updated", changed_at=OPENED + timedelta(hours=2))
    text = phone.render(update, "es", where="Mz. C", now=OPENED + timedelta(hours=5), code="4821")
    assert "sigue desde 14:10 (2 h)." in text
