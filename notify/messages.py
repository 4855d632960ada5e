"""Alert messages in plain Spanish and English, short enough for an SMS or a WhatsApp line.

A community leader reads these on a phone: what, where, since when, and how bad, in
words, with times on Lima's clock ("Sin agua en Manzana C desde las 14:10"). Peru keeps
UTC-5 all year (no daylight saving since 1994), so a fixed offset is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from vigia.contracts import Alert

LIMA = timezone(timedelta(hours=-5), "PET")
Language = Literal["es", "en"]
LANGUAGES: tuple[Language, ...] = ("es", "en")

SEVERITY_WORDS = {
    "es": {"critical": "URGENTE", "warning": "Aviso", "info": "Info"},
    "en": {"critical": "URGENT", "warning": "Warning", "info": "Info"},
}
PRECARIOUS_WORDS = {"es": "zona de viviendas precarias", "en": "area of precarious housing"}


@dataclass(frozen=True)
class Message:
    language: Language
    subject: str
    body: str


def clock(at: datetime) -> str:
    return at.astimezone(LIMA).strftime("%H:%M")


def day_and_clock(at: datetime, now: datetime, language: Language) -> str:
    """'14:10' today, else '03/02 14:10': a leader reading tomorrow must not mistake the day."""
    local, today = at.astimezone(LIMA), now.astimezone(LIMA)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return local.strftime("%d/%m %H:%M" if language == "es" else "%m/%d %H:%M")


def span(duration: timedelta, language: Language) -> str:
    minutes = max(0, int(duration.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = ("d", "h", "min")
    parts = [f"{n} {unit}" for n, unit in zip((days, hours, minutes), units, strict=True) if n]
    return " ".join(parts) if parts else ("menos de 1 min" if language == "es" else "under 1 min")


TEMPLATES: dict[Language, dict[str, str]] = {
    "es": {
        "opened": "{severity}: {title} en {where}{context} desde las {since}.",
        "updated": "{severity}: {title} en {where}{context} desde las {since}. Continúa ({lasted}).",
        "acknowledged": "En atención: {title} en {where}{context}, desde las {since}. Alguien ya se ocupa.",
        "reminder": "Recordatorio {severity}: {title} en {where}{context} desde las {since} ({lasted}). "
        "Nadie lo ha confirmado aún.",
        "resolved": "Resuelto: {title} en {where}{context}. Terminó a las {ended}, duró {lasted}.",
        "withdrawn": "Retirado: {title} en {where}{context}, avisado desde las {since}. "
        "Lecturas que llegaron tarde muestran que no ocurrió.",
    },
    "en": {
        "opened": "{severity}: {title} at {where}{context} since {since}.",
        "updated": "{severity}: {title} at {where}{context} since {since}. Still going ({lasted}).",
        "acknowledged": "Being handled: {title} at {where}{context}, since {since}. Someone is on it.",
        "reminder": "Reminder {severity}: {title} at {where}{context} since {since} ({lasted}). "
        "Nobody has acknowledged it yet.",
        "resolved": "Resolved: {title} at {where}{context}. Ended at {ended}, lasted {lasted}.",
        "withdrawn": "Withdrawn: {title} at {where}{context}, reported since {since}. "
        "Readings that arrived late show it did not happen.",
    },
}


def render(
    alert: Alert, language: Language, *, place: str | None = None, now: datetime, reminder: bool = False
) -> Message:
    """The message for this alert change in one language; `place` is the sensor's label, if it has one."""
    title = (alert.title_es if language == "es" else alert.title_en) or alert.rule
    where = place or alert.sensor_id
    severity = SEVERITY_WORDS[language].get(alert.severity.value, alert.severity.value)
    precarious = alert.housing.precarious_share is not None and alert.housing.precarious_share >= 0.5
    resolved = alert.state.value == "resolved"
    # How long it lasted, or had lasted when this change happened: a notifier catching up writes the
    # same words for an update whenever it sends it.
    ended = (alert.changed_at or alert.updated_at) if resolved else min(alert.changed_at or now, now)
    withdrawn = alert.state.value == "withdrawn"
    kind = "withdrawn" if withdrawn else "resolved" if resolved else "reminder" if reminder else alert.change
    kind = kind if kind in TEMPLATES[language] else "opened"
    body = TEMPLATES[language][kind].format(
        severity=severity,
        title=title,
        where=where,
        context=f" ({PRECARIOUS_WORDS[language]})" if precarious else "",
        since=day_and_clock(alert.opened_at, now, language),
        ended=day_and_clock(ended, now, language),
        lasted=span(ended - alert.opened_at, language),
    )
    subject = f"{title} - {where}" if resolved or withdrawn else f"{severity}: {title} - {where}"
    return Message(language, subject, body)
