"""Kannel calls these: replies typed on a phone, and the network's delivery receipts.

Kannel presents the shared callback token (`VIGIA_SMS_CALLBACK_TOKEN`) in the query; no API
key, since a gateway is not a person. A reply is acted on only when it comes from a number
subscribed by SMS to the district of the alert its code names; the text we answer goes back
to that phone as an SMS (Kannel's sms-service sends the response body). A number we do not
know gets nothing: no cost, and nothing to learn by probing.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api import replies, repo
from api.deps import ConnDep, SettingsDep
from api.repo import replies as reply_repo
from vigia.phones import BadPhoneNumber, mask, normalise

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sms", tags=["sms"], include_in_schema=False)

# Kannel's DLR types (the %d of a dlr-url) and what they mean for the person on the list.
RECEIPTS = {1: "delivered", 2: "failed", 4: "buffered", 8: "accepted", 16: "rejected"}


def _check_token(settings: SettingsDep, token: str) -> None:
    expected = settings.sms_callback_token.get_secret_value()
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "not the SMS gateway's token")


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("latin-1")


@router.post("/inbound", response_class=PlainTextResponse)
async def inbound(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    token: Annotated[str, Query(max_length=200)] = "",
    sender: Annotated[str, Header(alias="X-Kannel-From", max_length=40)] = "",
) -> Response:
    """A message from a phone: acknowledge or resolve the alert its code names, and say so."""
    _check_token(settings, token)
    body = _text(await request.body())[:320]
    try:
        number = normalise(sender)
    except BadPhoneNumber:
        log.info("reply from a number that is not one; ignored")
        return PlainTextResponse("")
    subscribed = await reply_repo.phone_subscriptions(conn, number=number)
    record: dict[str, Any] = {"channel": "sms", "sender": number, "body": body, "subscription_id": None,
                              "alert_id": None}  # fmt: skip
    if not subscribed:
        await reply_repo.record_reply(conn, **record, outcome="unknown-sender", answer="")
        log.info("reply from %s, which no district subscribed; ignored", mask(number))
        return PlainTextResponse("")
    first = subscribed[0]
    language: replies.Language = first["language"]
    record["subscription_id"] = first["subscription_id"]
    asked = replies.parse(body)
    if asked is None:
        text = replies.answer("not-understood", language)
        await reply_repo.record_reply(conn, **record, outcome="not-understood", answer=text)
        return PlainTextResponse(text)
    districts = [row["district"] for row in subscribed]
    found = await reply_repo.alert_by_code(conn, code=asked.code, districts=districts)
    if found is None:
        text = replies.answer("unknown-code", language, code=asked.code)
        await reply_repo.record_reply(conn, **record, outcome="unknown-code", answer=text)
        return PlainTextResponse(text)
    chosen = next(row for row in subscribed if row["district"] == found["district"])
    record["subscription_id"] = chosen["subscription_id"]
    language = chosen["language"]
    title = found["title_es"] if language == "es" else found["title_en"]
    who = f"{chosen['name'] or mask(number)} (SMS)"
    changed = await repo.change_alert(
        conn, alert_id=found["alert_id"], change=asked.action, by=who, note=f"SMS: {body[:80]}"
    )
    outcome: replies.Outcome = asked.action if changed is not None else "already"
    state = changed["state"] if changed is not None else found["state"]
    text = replies.answer(outcome, language, code=asked.code, title=title, state=state)
    record["alert_id"] = found["alert_id"]
    await reply_repo.record_reply(conn, **record, outcome=outcome, answer=text)
    log.info("reply from %s: alert %s %s", mask(number), found["alert_id"], outcome)
    return PlainTextResponse(text)


@router.get("/receipts", status_code=204)
async def receipt(
    conn: ConnDep,
    settings: SettingsDep,
    delivery: Annotated[int, Query(ge=1)],
    status: Annotated[int, Query()],
    token: Annotated[str, Query(max_length=200)] = "",
    answer: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """What the network said of one SMS: accepted by the carrier, delivered to the phone, or not."""
    _check_token(settings, token)
    meaning = RECEIPTS.get(status)
    if meaning is None:
        raise HTTPException(422, f"status: {status} is not a Kannel delivery report type")
    await reply_repo.record_receipt(conn, delivery_id=delivery, receipt=meaning, answer=answer)
    return Response(status_code=204)
