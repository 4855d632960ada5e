"""Kannel calls these: replies typed on a phone, and the network's delivery receipts.

Kannel presents the shared callback token (`VIGIA_SMS_CALLBACK_TOKEN`) in the query; no API
key, since a gateway is not a person. A reply is acted on only when it comes from a number
subscribed by SMS to the district of the alert its code names; the text we answer goes back
to that phone as an SMS (Kannel's sms-service sends the response body). A number we do not
know gets nothing: no cost, and nothing to learn by probing.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api import inbound as inbound_replies
from api.deps import ConnDep, SettingsDep, require_secret
from api.repo import replies as reply_repo
from vigia.phones import BadPhoneNumber, normalise

log = logging.getLogger(__name__)
router = APIRouter(prefix="/sms", tags=["sms"], include_in_schema=False)

# Kannel's DLR types (the %d of a dlr-url) and what they mean for the person on the list.
RECEIPTS = {1: "delivered", 2: "failed", 4: "buffered", 8: "accepted", 16: "rejected"}


def _check_token(settings: SettingsDep, token: str) -> None:
    require_secret(token, settings.sms_callback_token.get_secret_value(), "not the SMS gateway's token")


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
    try:
        number = normalise(sender)
    except BadPhoneNumber:
        log.info("reply from a number that is not one; ignored")
        return PlainTextResponse("")
    answer = await inbound_replies.handle(conn, channel="sms", sender=number, body=_text(await request.body()))
    return PlainTextResponse(answer or "")


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
