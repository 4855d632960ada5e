"""Which messages an alert change owes, to whom, in which words. Pure: no I/O.

A phone channel (SMS, WhatsApp, Telegram, the demo's message log) gets the short message
with the alert's reply code; email and webhooks get the fuller one. The place is the
sensor's name for where it stands, else the subscription's name for the area, else the
sensor id. An escalation step (a subscription with `wait_minutes`) is owed at once but due
only after its wait; whether it is still needed is decided when it falls due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from notify import phone
from notify.delivery import Interest, wants
from notify.messages import Language, render
from vigia.contracts import Alert

PHONE_CHANNELS = frozenset({"sms", "whatsapp", "telegram", "log"})


@dataclass(frozen=True)
class Facts:
    """What the alerts topic's record does not carry: the sensor's place name and who took the alert on."""

    place: str = ""
    acknowledged_by: str = ""


def owed(
    alert: Alert,
    subscriptions: Sequence[Mapping[str, Any]],
    now: datetime,
    *,
    codes: Mapping[str, str],
    facts: Mapping[str, Facts],
    reminder: bool = False,
) -> list[dict[str, Any]]:
    """Delivery rows for the subscriptions that want this change, each in its channel's words and language."""
    change = "reminder" if reminder else alert.change
    known = facts.get(alert.alert_id, Facts())
    code = codes.get(alert.alert_id)
    rows = []
    for sub in subscriptions:
        interest = Interest(sub["district"], sub["min_severity"])
        if not wants(
            interest, district=alert.district, severity=alert.severity.value, change="opened" if reminder else change
        ):
            continue
        language: Language = sub["language"]
        where = known.place or sub["place"] or alert.sensor_id
        full = render(alert, language, place=where, now=now, reminder=reminder)
        if sub["channel"] in PHONE_CHANNELS:
            body = phone.render(
                alert, language, where=where, now=now, code=code, reminder=reminder, by=known.acknowledged_by
            )
        else:
            body = full.body
        payload = {
            "subscription_id": sub["subscription_id"],
            "change": change,
            "message": {"language": language, "subject": full.subject, "body": body},
            "reply_code": code,
            "alert": alert.model_dump(mode="json"),
        }
        wait = timedelta(minutes=sub.get("wait_minutes") or 0) if change == "opened" else timedelta(0)
        rows.append({
            "subscription_id": sub["subscription_id"], "alert_id": alert.alert_id, "change": change,
            "event_time": alert.changed_at or alert.updated_at, "message": body,
            "payload": orjson.dumps(payload).decode(), "due_at": now + wait,
        })  # fmt: skip
    return rows
