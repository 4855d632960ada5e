"""Alert messages for a phone: one SMS of the GSM alphabet, with the code a leader replies with.

"URGENTE: Sin agua en Mz. C, AA.HH. Villa Hermosa desde 14:10. Responda OK 4821 si lo
atiende, LISTO 4821 si ya se resolvio."

What, where in the words neighbours use, since when, and how to answer. When the words run
past 160 characters the housing context goes first, then the place name is shortened; the
reply instruction always stays. A rule title so long that even that does not fit is sent as
a concatenated SMS (see `vigia/gsm.py`), reassembled on the phone.
"""

from __future__ import annotations

from datetime import datetime

from notify.messages import SEVERITY_WORDS, Language, day_and_clock, span
from vigia import gsm
from vigia.contracts import Alert

PRECARIOUS = {"es": " (viviendas precarias)", "en": " (precarious housing)"}
SHORTEST_PLACE = 12

TEMPLATES: dict[Language, dict[str, str]] = {
    "es": {
        "opened": "{severity}: {title} en {where}{context} desde {since}.{ask}",
        "updated": "{severity}: {title} en {where}{context} sigue desde {since} ({lasted}).{ask}",
        "reminder": "Recordatorio {severity}: {title} en {where}{context} desde {since} ({lasted}). "
        "Nadie lo confirmo.{ask}",
        "acknowledged": "En atencion: {title} en {where}{context} desde {since}.{by}",
        "resolved": "Resuelto: {title} en {where}{context}. Termino {ended}, duro {lasted}.",
        "withdrawn": "Retirado: {title} en {where}{context} desde {since}. Lecturas tardias muestran que no ocurrio.",
    },
    "en": {
        "opened": "{severity}: {title} at {where}{context} since {since}.{ask}",
        "updated": "{severity}: {title} at {where}{context} still going since {since} ({lasted}).{ask}",
        "reminder": "Reminder {severity}: {title} at {where}{context} since {since} ({lasted}). "
        "Nobody confirmed it.{ask}",
        "acknowledged": "Being handled: {title} at {where}{context} since {since}.{by}",
        "resolved": "Resolved: {title} at {where}{context}. Ended {ended}, lasted {lasted}.",
        "withdrawn": "Withdrawn: {title} at {where}{context} since {since}. Late readings show it did not happen.",
    },
}
ASK = {
    "es": " Responda OK {code} si lo atiende, LISTO {code} si ya se resolvio.",
    "en": " Reply OK {code} if you are on it, DONE {code} once fixed.",
}
SHORT_ASK = {"es": " Responda OK {code}.", "en": " Reply OK {code}."}
BY = {"es": " Lo atiende {who}.", "en": " {who} is on it."}


def render(
    alert: Alert,
    language: Language,
    *,
    where: str,
    now: datetime,
    code: str | None,
    reminder: bool = False,
    by: str = "",
) -> str:
    """The SMS for this alert change, folded to the GSM alphabet and fitted to one message when it can be."""
    resolved = alert.state.value == "resolved"
    withdrawn = alert.state.value == "withdrawn"
    kind = "withdrawn" if withdrawn else "resolved" if resolved else "reminder" if reminder else alert.change
    kind = kind if kind in TEMPLATES[language] else "opened"
    ended = (alert.changed_at or alert.updated_at) if resolved else min(alert.changed_at or now, now)
    fields = {
        "severity": SEVERITY_WORDS[language].get(alert.severity.value, alert.severity.value),
        "title": (alert.title_es if language == "es" else alert.title_en) or alert.rule,
        "since": day_and_clock(alert.opened_at, now, language),
        "ended": day_and_clock(ended, now, language),
        "lasted": span(ended - alert.opened_at, language),
        "by": BY[language].format(who=by) if by else "",
    }
    precarious = alert.housing.precarious_share is not None and alert.housing.precarious_share >= 0.5
    asks = [ASK[language], SHORT_ASK[language]] if code else [""]
    template = TEMPLATES[language][kind]
    # From the fullest to the barest: with the housing context, then without, then a shorter
    # reply instruction, then the place name cut down to fit.
    tries = [(context, ask) for ask in asks for context in ([PRECARIOUS[language]] if precarious else []) + [""]]
    text = ""
    for context, ask in tries:
        text = gsm.fold(template.format(**fields, where=where, context=context, ask=ask.format(code=code)))
        if gsm.length(text) <= gsm.SINGLE:
            return text
    ask = asks[-1].format(code=code)
    while gsm.length(text) > gsm.SINGLE:
        overflow = gsm.length(text) - gsm.SINGLE
        shorter = where[: max(SHORTEST_PLACE, len(where) - overflow - 1)].rstrip(" ,.") + "."
        if len(shorter) >= len(where):
            break  # the place is as short as it may be: a concatenated SMS it is
        where = shorter
        text = gsm.fold(template.format(**fields, where=where, context="", ask=ask))
    return text
