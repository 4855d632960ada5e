"""Replies typed on a phone, read as people write them."""

from __future__ import annotations

import pytest

from api.replies import Reply, answer, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OK 4821", Reply("acknowledged", "4821")),
        ("ok4821", Reply("acknowledged", "4821")),
        ("  Ok, 4821. ", Reply("acknowledged", "4821")),
        ("4821 ok", Reply("acknowledged", "4821")),
        ("Sí 4821", Reply("acknowledged", "4821")),
        ("LISTO 4821", Reply("resolved", "4821")),
        ("listo 48213", Reply("resolved", "48213")),
        ("4821 resuelto!", Reply("resolved", "4821")),
        ("done 4821", Reply("resolved", "4821")),
    ],
)
def test_a_word_and_a_code_in_either_order(text: str, expected: Reply) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text", ["", "OK", "4821", "hola 4821", "OK 12", "OK 4821 y 4822", "ok ok 4821"])
def test_anything_else_is_not_a_reply(text: str) -> None:
    assert parse(text) is None


def test_answers_name_the_alert_in_the_subscribers_language_and_fit_the_sms_alphabet() -> None:
    assert answer("acknowledged", "es", code="4821", title="Sin agua") == (
        "Gracias. Alerta 4821 (Sin agua) en atencion; avisamos a los demas."
    )
    assert answer("acknowledged", "es", code="4821", title="Tanque casi vacío") == (
        "Gracias. Alerta 4821 (Tanque casi vacio) en atencion; avisamos a los demas."
    )
    assert answer("already", "en", code="4821", title="No water", state="resolved") == (
        "Alert 4821 (No water) was already resolved. Nothing changed."
    )
