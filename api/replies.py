"""What a leader's reply to an alert message means, and what we answer. Pure rules, no I/O.

A reply is a word and the alert's code, in either order, any case, with or without
accents or punctuation: "OK 4821", "ok4821", "Listo 4821.", "4821 resuelto". The words are
the ones people in Lima answer with; English ones work too. Anything else is not understood,
and the answer says how to reply.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from vigia import gsm

Action = Literal["acknowledged", "resolved"]
Language = Literal["es", "en"]

WORDS: dict[str, Action] = {
    **dict.fromkeys(["OK", "OKEY", "SI", "YA", "VOY", "ACK", "RECIBIDO", "ATIENDO", "ENTERADO"], "acknowledged"),
    **dict.fromkeys(["LISTO", "RESUELTO", "SOLUCIONADO", "ARREGLADO", "DONE", "FIXED", "RESOLVED"], "resolved"),
}
_REPLY = re.compile(r"^([A-Z]+)\W*(\d{3,6})$|^(\d{3,6})\W*([A-Z]+)$")


@dataclass(frozen=True)
class Reply:
    action: Action
    code: str


def _plain(text: str) -> str:
    bare = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    return re.sub(r"[\s.!,;:]+", " ", bare).strip().upper()


def parse(text: str) -> Reply | None:
    """The action and code a reply asks for, or None when it is not one."""
    match = _REPLY.match(_plain(text))
    if match is None:
        return None
    word, code = (match[1], match[2]) if match[1] else (match[4], match[3])
    action = WORDS.get(word)
    return Reply(action, code) if action else None


Outcome = Literal["acknowledged", "resolved", "already", "unknown-code", "not-understood"]

ANSWERS: dict[Language, dict[Outcome, str]] = {
    "es": {
        "acknowledged": "Gracias. Alerta {code} ({title}) en atencion; avisamos a los demas.",
        "resolved": "Gracias. Alerta {code} ({title}) cerrada como resuelta.",
        "already": "La alerta {code} ({title}) ya estaba {state}. No cambiamos nada.",
        "unknown-code": "No encontramos una alerta abierta {code} en su zona. Revise el numero del mensaje.",
        "not-understood": "No entendimos su respuesta. Responda OK y el numero de la alerta, por ejemplo OK 4821.",
    },
    "en": {
        "acknowledged": "Thank you. Alert {code} ({title}) marked as being handled; others are told.",
        "resolved": "Thank you. Alert {code} ({title}) closed as resolved.",
        "already": "Alert {code} ({title}) was already {state}. Nothing changed.",
        "unknown-code": "We found no open alert {code} in your area. Check the number in the message.",
        "not-understood": "We did not understand your reply. Answer OK and the alert number, for example OK 4821.",
    },
}
STATES: dict[Language, dict[str, str]] = {
    "es": {"acknowledged": "en atencion", "resolved": "resuelta", "withdrawn": "retirada", "open": "abierta"},
    "en": {"acknowledged": "being handled", "resolved": "resolved", "withdrawn": "withdrawn", "open": "open"},
}


def answer(outcome: Outcome, language: Language, *, code: str = "", title: str = "", state: str = "") -> str:
    """The confirmation or refusal sent back to the phone, in the subscriber's language and the SMS alphabet."""
    text = ANSWERS[language][outcome].format(code=code, title=title, state=STATES[language].get(state, state))
    return gsm.fold(text)
