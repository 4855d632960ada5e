"""SMS through Kannel's `sendsms` interface.

A POST with the number and credentials in X-Kannel headers and the text as the body, so
neither the number nor the words end up in a URL. Kannel answers 202 once the message is
queued (its store keeps it across a restart); the phone network's receipts come back to
the API through the `dlr-url` carried with each message, which names the delivery.
"""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from notify.channels import Delivery, Outcome
from vigia.settings import Settings

DLR_ALL = 31  # delivered, failed, buffered, accepted by the SMSC, rejected by the SMSC
ACCEPTED = ("0:", "3:")  # "0: Accepted for delivery", "3: Queued for later delivery"


class KannelSms:
    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.url = settings.sendsms_url
        self.auth = {
            "X-Kannel-Username": settings.kannel_username,
            "X-Kannel-Password": settings.kannel_password.get_secret_value(),
        }
        self.sender = settings.sms_sender
        self.receipts = f"{settings.sms_callback_base}/sms/receipts"
        self.token = settings.sms_callback_token.get_secret_value()

    def receipt_url(self, delivery_id: int) -> str:
        # %d and %A are Kannel's: the receipt's type and the network's words.
        query = urlencode({"delivery": delivery_id, "token": self.token})
        return f"{self.receipts}?{query}&status=%d&answer=%A"

    async def send(self, delivery: Delivery) -> Outcome:
        headers = {
            **self.auth,
            "X-Kannel-To": delivery.target,
            "X-Kannel-From": self.sender,
            "X-Kannel-Coding": "0",  # the GSM alphabet: the text is folded to it already
            "X-Kannel-DLR-Mask": str(DLR_ALL),
            "X-Kannel-DLR-Url": self.receipt_url(delivery.delivery_id),
            "Content-Type": "text/plain; charset=utf-8",
        }
        try:
            response = await self.client.post(self.url, content=delivery.message.encode(), headers=headers)
        except httpx.HTTPError as error:
            return Outcome(False, None, f"Kannel unreachable: {type(error).__name__}")
        answer = response.text.strip()[:200]
        if response.status_code in (200, 202) and answer.startswith(ACCEPTED):
            return Outcome(True, response.status_code, answer=answer)
        return Outcome(False, response.status_code, answer or response.reason_phrase, answer=answer)
