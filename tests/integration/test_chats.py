"""Leaders in a chat: an alert reaches WhatsApp and Telegram through Apprise (a loopback server stands in
for the providers), and a reply posted to the API's webhooks as the providers post them acknowledges or
resolves it, from the subscribed chat or number only."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.conftest import CHAT_PORT, CHAT_SECRETS
from tests.integration.helpers import JsonPosts, api_headers, eventually, query, register
from tests.integration.test_api import base, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration

DISTRICT = "it-chats"
NUMBER, CHAT = "+51944333222", "700100200"


@pytest.fixture(scope="module")
def providers() -> Iterator[JsonPosts]:
    """What stands in for WhatsApp's and Telegram's servers: posts to /whatsapp/<number>, /telegram/<chat>."""
    stand_in = JsonPosts(CHAT_PORT)
    yield stand_in
    stand_in.close()


def whatsapp_post(stack: Settings, number: str, text: str, secret: str = CHAT_SECRETS["app"]) -> httpx.Response:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {
        "messages": [{"from": number.lstrip("+"), "type": "text", "text": {"body": text}}]}}]}]}).encode()  # fmt: skip
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(f"{base(stack)}/whatsapp/inbound", content=body, headers={"X-Hub-Signature-256": signature})


def telegram_post(stack: Settings, chat: str, text: str, secret: str = CHAT_SECRETS["telegram"]) -> httpx.Response:
    update = {"update_id": 1, "message": {"chat": {"id": int(chat), "type": "private"}, "text": text}}
    return httpx.post(
        f"{base(stack)}/telegram/inbound", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


def test_a_leader_acknowledges_on_telegram_and_resolves_on_whatsapp(stack: Settings, providers: JsonPosts) -> None:
    leader = httpx.Client(base_url=base(stack), headers=api_headers(stack, "leader", DISTRICT), timeout=10)
    for channel, target in (("whatsapp", "944 333 222"), ("telegram", CHAT)):
        created = leader.post("/subscriptions", json={"district": DISTRICT, "channel": channel, "target": target,
                                                      "name": "Juana Flores"})  # fmt: skip
        assert created.status_code == 201, created.text
    register(stack, "it-chats-water", -12.0800, -76.9900, "water", ["water_pressure"], district=DISTRICT)
    publish_dry_spell(stack, "it-chats-water", DISTRICT)

    to_number = f"/whatsapp/{NUMBER.lstrip('+')}"
    whatsapp = eventually(lambda: providers.messages(to_number), timeout=120, what="the WhatsApp message")[0]
    telegram = eventually(lambda: providers.messages(f"/telegram/{CHAT}"), timeout=60, what="the Telegram message")[0]
    assert whatsapp.startswith("Aviso: Sin agua en it-chats-water desde")
    code = re.search(r"OK (\d{4,5})", telegram)
    assert code is not None, telegram
    alert_id = query(stack, "SELECT alert_id::text FROM alert_codes WHERE code = %(c)s", {"c": code[1]})[0][0]

    # The registration check, a forged post and a stranger's chat change nothing.
    registration = {"hub.mode": "subscribe", "hub.verify_token": CHAT_SECRETS["verify"], "hub.challenge": "1158201444"}
    check = httpx.get(f"{base(stack)}/whatsapp/inbound", params=registration)
    assert (check.status_code, check.text) == (200, "1158201444")
    assert telegram_post(stack, CHAT, f"OK {code[1]}", secret="guess").status_code == 403
    assert whatsapp_post(stack, NUMBER, f"OK {code[1]}", secret="guess").status_code == 403
    assert telegram_post(stack, "999", f"OK {code[1]}").json() == {}
    assert query(stack, "SELECT state FROM alerts WHERE alert_id = %(a)s", {"a": alert_id})[0][0] == "open"

    answered = telegram_post(stack, CHAT, f"ok {code[1]}").json()
    assert answered == {"method": "sendMessage", "chat_id": CHAT,
                        "text": f"Gracias. Alerta {code[1]} (Sin agua) en atencion; avisamos a los demas."}  # fmt: skip
    seen: dict[str, Any] = leader.get(f"/alerts/{alert_id}").json()
    assert (seen["state"], seen["acknowledged_by"]) == ("acknowledged", "Juana Flores (Telegram)")

    assert whatsapp_post(stack, NUMBER, f"Listo {code[1]}").status_code == 200
    thanks = eventually(
        lambda: [m for m in providers.messages(to_number) if m.startswith("Gracias")],
        what="the WhatsApp answer",
    )[0]
    assert thanks == f"Gracias. Alerta {code[1]} (Sin agua) cerrada como resuelta."
    assert leader.get(f"/alerts/{alert_id}").json()["state"] == "resolved"
