"""Replies by Telegram and WhatsApp: the providers' webhooks, for leaders who answer in a chat.

Telegram posts each update with the secret set when the bot's webhook was registered
(`X-Telegram-Bot-Api-Secret-Token`); our answer rides back in the response as a
`sendMessage` call, so no request leaves for it. WhatsApp's Cloud API first checks the
webhook with `hub.verify_token`, then signs each post with the app secret
(`X-Hub-Signature-256`); the answer goes out through the `whatsapp` Apprise URL, as alerts
do. Each endpoint answers 404 until its secret is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import apprise
import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from api import inbound
from api.deps import ConnDep, SettingsDep, require_secret
from vigia.phones import BadPhoneNumber, normalise

log = logging.getLogger(__name__)
router = APIRouter(tags=["chats"], include_in_schema=False)


def _configured(secret: str) -> str:
    if not secret:
        raise HTTPException(404, "not configured here")
    return secret


def telegram_message(update: dict[str, Any]) -> tuple[str, str] | None:
    """(chat id, text) of a Telegram update that is a text message; None for anything else."""
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        return None
    chat = message.get("chat")
    if not isinstance(chat, dict) or "id" not in chat:
        return None
    return str(chat["id"]), message["text"]


def whatsapp_messages(payload: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(sender's number, text) of each text message in a WhatsApp Cloud API webhook post."""
    for entry in _dicts(payload.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            for message in _dicts(value.get("messages") if isinstance(value, dict) else None):
                text = message.get("text")
                body = text.get("body") if isinstance(text, dict) else None
                if message.get("type") == "text" and isinstance(body, str) and isinstance(message.get("from"), str):
                    yield message["from"], body


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def signed_by(secret: str, body: bytes, header: str) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


async def _json(request: Request) -> dict[str, Any]:
    try:
        payload = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise HTTPException(422, "body: not JSON") from None
    if not isinstance(payload, dict):
        raise HTTPException(422, "body: not a JSON object")
    return payload


@router.post("/telegram/inbound")
async def telegram(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    secret: Annotated[str, Header(alias="X-Telegram-Bot-Api-Secret-Token", max_length=256)] = "",
) -> Response:
    require_secret(secret, _configured(settings.telegram_webhook_secret.get_secret_value()), "not Telegram's secret")
    message = telegram_message(await _json(request))
    if message is None:
        return JSONResponse({})
    chat, text = message
    answer = await inbound.handle(conn, channel="telegram", sender=chat, body=text)
    return JSONResponse({"method": "sendMessage", "chat_id": chat, "text": answer} if answer else {})


@router.get("/whatsapp/inbound", response_class=PlainTextResponse)
async def whatsapp_check(
    settings: SettingsDep,
    mode: Annotated[str, Query(alias="hub.mode", max_length=40)] = "",
    token: Annotated[str, Query(alias="hub.verify_token", max_length=256)] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)] = "",
) -> Response:
    """WhatsApp's check that this endpoint is ours, when the webhook is registered."""
    require_secret(token, _configured(settings.whatsapp_verify_token.get_secret_value()), "not the verify token")
    if mode != "subscribe":
        raise HTTPException(403, "not a subscription check")
    return PlainTextResponse(challenge)


@router.post("/whatsapp/inbound", status_code=200)
async def whatsapp(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    signature: Annotated[str, Header(alias="X-Hub-Signature-256", max_length=100)] = "",
) -> Response:
    secret = _configured(settings.whatsapp_app_secret.get_secret_value())
    if not signed_by(secret, await request.body(), signature):
        raise HTTPException(403, "not signed with the app secret")
    template = settings.apprise_urls.get("whatsapp")
    for sender, text in whatsapp_messages(await _json(request)):
        try:
            number = normalise("+" + sender.lstrip("+"))
        except BadPhoneNumber:
            continue
        answer = await inbound.handle(conn, channel="whatsapp", sender=number, body=text)
        if answer and template:
            sent = apprise.Apprise()
            sent.add(template.replace("{target}", number.lstrip("+")))
            if not await sent.async_notify(body=answer):
                log.warning("the answer to a WhatsApp reply could not be sent")
    return Response(status_code=200)
