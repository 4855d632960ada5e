"""The SMS alphabet: what costs one message and what would cost three."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigia import gsm


def test_spanish_keeps_its_n_tilde_and_e_acute_but_loses_the_accents_the_alphabet_lacks() -> None:
    assert gsm.fold("Tensión baja en Mañana, vecino: ¿qué pasó? ¡Atención!") == (
        "Tension baja en Mañana, vecino: ¿qué paso? ¡Atencion!"
    )
    assert gsm.fold("“Sin agua” – ya…") == '"Sin agua" - ya...'
    assert gsm.fold("agua 💧") == "agua ?"


def test_extension_characters_take_two_places_and_long_text_goes_in_153_character_parts() -> None:
    assert gsm.length("€[x]") == 7
    assert gsm.parts("a" * 160) == 1
    assert gsm.parts("a" * 161) == 2
    assert gsm.parts("a" * 306) == 2
    assert gsm.parts("a" * 307) == 3
    with pytest.raises(ValueError, match="not in the GSM"):
        gsm.length("Tensión")


@given(st.text(max_size=200))
def test_whatever_is_folded_can_be_sent_in_the_gsm_alphabet(text: str) -> None:
    assert gsm.length(gsm.fold(text)) >= len(gsm.fold(text))
