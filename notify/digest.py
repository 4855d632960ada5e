"""One message for many: what a subscriber past their hourly limit gets instead of the rest. Pure.

"Vigia: 7 avisos mas desde 14:10: Sin agua x3 (URGENTE), Corte de luz x2, Voltaje bajo x2.
Detalle en la web de Vigia." The most severe first; for a phone, folded to the GSM
alphabet and cut to one SMS, dropping kinds from the end ("y 2 mas") when they do not fit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from notify.delivery import SEVERITY_RANK
from notify.messages import SEVERITY_WORDS, Language, day_and_clock
from vigia import gsm

HEAD = {"es": "Vigia: {n} avisos mas desde {since}: ", "en": "Vigia: {n} more alerts since {since}: "}
TAIL = {"es": ". Detalle en la web de Vigia.", "en": ". Details on the Vigia page."}
MORE = {"es": " y {n} mas", "en": " and {n} more"}


def digest(held: Sequence[dict[str, Any]], language: Language, now: datetime, *, short: bool) -> str:
    """The digest of held deliveries; each row has the alert record of its payload under 'alert'."""
    kinds: Counter[tuple[int, str, str]] = Counter()
    for row in held:
        alert = row["alert"]
        title = (alert.get("title_es") if language == "es" else alert.get("title_en")) or alert["rule"]
        severity = alert["severity"]
        kinds[(-SEVERITY_RANK.get(severity, 0), title, severity)] += 1
    since = min(datetime.fromisoformat(row["alert"]["opened_at"]) for row in held)
    pieces = []
    for (_, title, severity), count in sorted(kinds.items()):
        label = f" ({SEVERITY_WORDS[language][severity]})" if severity == "critical" else ""
        pieces.append(f"{title} x{count}{label}")
    head = HEAD[language].format(n=len(held), since=day_and_clock(since, now, language))
    text = head + ", ".join(pieces) + TAIL[language]
    if not short:
        return text
    shown = len(pieces)
    while True:
        more = MORE[language].format(n=len(pieces) - shown) if shown < len(pieces) else ""
        text = gsm.fold(head + ", ".join(pieces[:shown]) + more + TAIL[language])
        if gsm.length(text) <= gsm.SINGLE or shown <= 1:
            return text
        shown -= 1
