"""Ways a message reaches people. A channel takes one delivery and says how it went.

`webhook` posts the alert and its message as JSON, signed with the subscription's secret
(see `signing.py`), so any system (a municipal dashboard, a gateway the community already
uses) can receive it. `log` appends the message to a file. SMS goes through Kannel
(`sms.py`); WhatsApp, Telegram, email and the rest through Apprise (`apprise_channel.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import orjson

from notify import signing


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    channel: str
    target: str
    signing_secret: str
    message: str
    payload: dict[str, Any]
    subject: str = ""


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None
    error: str | None = None
    answer: str | None = None
    """The provider's own words, kept in the delivery log ("0: Accepted for delivery")."""


class Channel(Protocol):
    async def send(self, delivery: Delivery) -> Outcome: ...


class Webhook:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, delivery: Delivery) -> Outcome:
        body = orjson.dumps(delivery.payload, option=orjson.OPT_UTC_Z)
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(delivery.signing_secret.encode(), body, int(time.time())),
            "X-Vigia-Delivery": str(delivery.delivery_id),  # the same id on every retry: receivers can drop repeats
        }
        try:
            response = await self.client.post(delivery.target, content=body, headers=headers)
        except httpx.HTTPError as error:
            return Outcome(False, None, f"{type(error).__name__}: {error}"[:500])
        if response.is_success:
            return Outcome(True, response.status_code)
        return Outcome(False, response.status_code, response.text[:500] or response.reason_phrase)


class MessageLog:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, delivery: Delivery) -> Outcome:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"to {delivery.target}: {delivery.message}\n")
        return Outcome(True)
