"""A reply from a phone or a chat, whatever carried it: acknowledge or resolve the alert its code names.

The channel's route (SMS through Kannel, Telegram's or WhatsApp's webhook) checks that the
call is genuine and says who wrote; from there every channel is the same. The sender must be
the target of a live subscription on that channel, in the district of the alert the code
names; the alert is changed on that subscriber's behalf. Every reply is recorded with what
came of it. None means nothing is sent back: a sender nobody subscribed hears nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import AsyncConnection

from api import replies, repo
from api.repo import replies as reply_repo
from vigia.phones import mask

log = logging.getLogger(__name__)

LABELS = {"sms": "SMS", "whatsapp": "WhatsApp", "telegram": "Telegram"}


async def handle(conn: AsyncConnection, *, channel: str, sender: str, body: str) -> str | None:
    """The answer to send back to `sender`, or None to send nothing."""
    body = body.strip()[:320]
    subscribed = await reply_repo.subscribed(conn, channel=channel, target=sender)
    record: dict[str, Any] = {"channel": channel, "sender": sender, "body": body, "subscription_id": None,
                              "alert_id": None}  # fmt: skip
    if not subscribed:
        await reply_repo.record_reply(conn, **record, outcome="unknown-sender", answer="")
        log.info("reply by %s from %s, which no district subscribed; ignored", channel, mask(sender))
        return None
    chosen = subscribed[0]
    asked = replies.parse(body)
    found = None
    if asked is not None:
        found = await reply_repo.alert_by_code(conn, code=asked.code, districts=[s["district"] for s in subscribed])
    if found is not None:
        chosen = next(s for s in subscribed if s["district"] == found["district"])
        record["alert_id"] = found["alert_id"]
    record["subscription_id"] = chosen["subscription_id"]
    language: replies.Language = chosen["language"]
    if asked is None or found is None:
        outcome: replies.Outcome = "not-understood" if asked is None else "unknown-code"
        text = replies.answer(outcome, language, code=asked.code if asked else "")
        await reply_repo.record_reply(conn, **record, outcome=outcome, answer=text)
        return text
    who = f"{chosen['name'] or mask(sender)} ({LABELS.get(channel, channel)})"
    changed = await repo.change_alert(
        conn,
        alert_id=found["alert_id"],
        change=asked.action,
        by=who,
        note=f"{LABELS.get(channel, channel)}: {body[:80]}",
    )
    outcome = asked.action if changed is not None else "already"
    state = changed["state"] if changed is not None else found["state"]
    title = found["title_es"] if language == "es" else found["title_en"]
    text = replies.answer(outcome, language, code=asked.code, title=title, state=state)
    await reply_repo.record_reply(conn, **record, outcome=outcome, answer=text)
    log.info("reply by %s from %s: alert %s %s", channel, mask(sender), found["alert_id"], outcome)
    return text
