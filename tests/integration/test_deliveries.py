"""Alerts that reach people: a signed webhook to a receiver on loopback, retried after a 500, and a reminder."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from notify import signing
from tests.integration.helpers import api_headers, assess_tile_as_precarious, eventually, register
from tests.integration.test_api import base, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration

DISTRICT = "it-deliveries"


class Receiver:
    """A webhook endpoint that fails its first call with a 500, then keeps every delivery it verifies."""

    def __init__(self) -> None:
        self.secret = b""
        self.calls: list[dict[str, Any]] = []
        self.verified: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append({"delivery": self.headers.get("X-Vigia-Delivery"), "at": time.time()})
                if len(receiver.calls) == 1:
                    self.send_response(500)
                    self.end_headers()
                    return
                signing.verify(receiver.secret, body, self.headers.get(signing.HEADER), now=int(time.time()))
                receiver.verified.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_a_critical_outage_reaches_the_leader_signed_retried_and_recalled(stack: Settings, receiver: Receiver) -> None:
    leader = api_headers(stack, "leader", DISTRICT)
    tile = register(stack, "it-deliveries-water", -12.0600, -76.9700, "water", ["water_pressure"], district=DISTRICT)
    # a dry tap under precarious roofs is critical
    assess_tile_as_precarious(stack, tile, ("it-deliveries-probe", -12.0600, -76.9701), DISTRICT)

    api = httpx.Client(base_url=base(stack), headers=leader, timeout=10)
    refused = {
        "other district": api.post("/subscriptions", json={"district": "elsewhere", "target": receiver.url}),
        "not a URL": api.post("/subscriptions", json={"district": DISTRICT, "target": "ftp://x/y"}),
        "viewer": httpx.post(
            f"{base(stack)}/subscriptions", json={"district": DISTRICT, "target": receiver.url},
            headers=api_headers(stack, "viewer"),
        ),
    }  # fmt: skip
    assert {k: r.status_code for k, r in refused.items()} == {"other district": 404, "not a URL": 422, "viewer": 403}
    created = api.post(
        "/subscriptions",
        json={"district": DISTRICT, "target": receiver.url, "min_severity": "critical", "place": "Manzana C"},
    )
    assert created.status_code == 201, created.text
    subscription = created.json()
    receiver.secret = subscription["signing_secret"].encode()
    assert "signing_secret" not in api.get("/subscriptions").json()[0]

    publish_dry_spell(stack, "it-deliveries-water", DISTRICT)

    opened = eventually(
        lambda: [d for d in receiver.verified if d["change"] == "opened"], timeout=120, what="the signed delivery"
    )[0]
    assert opened["subscription_id"] == subscription["subscription_id"]
    assert opened["alert"]["severity"] == "critical"
    body = opened["message"]["body"]
    assert body.startswith("URGENTE: Sin agua en Manzana C (zona de viviendas precarias) desde las ")
    # The receiver failed its first call; that delivery is tried again. Another delivery (the
    # minutely reminder check may owe one at any moment) can be sent in between.
    first = receiver.calls[0]
    again = eventually(
        lambda: [c for c in receiver.calls[1:] if c["delivery"] == first["delivery"]], timeout=60, what="the retry"
    )[0]
    assert again["at"] - first["at"] >= 9  # after the first back-off, not at once

    # The alert opened two hours ago (event time) and nobody acknowledged it: a reminder follows.
    reminder = eventually(
        lambda: [d for d in receiver.verified if d["change"] == "reminder"], timeout=90, what="the reminder"
    )[0]
    assert reminder["message"]["body"].startswith("Recordatorio URGENTE: Sin agua en Manzana C")
    assert reminder["message"]["body"].endswith("Nadie lo ha confirmado aún.")

    log = api.get(f"/subscriptions/{subscription['subscription_id']}/deliveries").json()
    by_change = {d["change"]: d for d in log}
    assert by_change["opened"]["status"] == "delivered"
    retried = next(d for d in log if str(d["delivery_id"]) == first["delivery"])
    assert (retried["status"], retried["attempts"], retried["last_status"]) == ("delivered", 2, 204)
    tried = api.get(f"/deliveries/{retried['delivery_id']}/attempts").json()
    assert [(a["channel"], a["delivered"], a["status"]) for a in tried] == [
        ("webhook", False, 500),
        ("webhook", True, 204),
    ]
    assert by_change["opened"]["message"] == body

    assert api.delete(f"/subscriptions/{subscription['subscription_id']}").status_code == 204
    assert api.get(f"/subscriptions/{subscription['subscription_id']}/deliveries").status_code == 404
