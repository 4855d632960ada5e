"""Alerts that reach phones: SMS through the stack's Kannel to the stand-in carrier SMSC, email to a real
SMTP server on loopback, an Apprise JSON target; a leader acknowledging by reply; an escalation step skipped."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from simulate import smsc
from tests.integration.conftest import SMTP_PORT
from tests.integration.helpers import JsonPosts, api_headers, eventually, query, register
from tests.integration.test_api import Listener, base, change_of, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration

DISTRICT = "it-phones"
ELSEWHERE = "it-phones-far"
ROSA, JORGE, STRANGER, FAR = "+51987654321", "+51911222333", "+51900000001", "+51955555555"
PLACE = "Mz. C, AA.HH. Villa Hermosa"


class Inbox:
    """An SMTP server on loopback that keeps every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.content if isinstance(envelope.content, bytes) else b"")
        texts = [part.get_payload(decode=True) for part in message.walk() if part.get_content_type() == "text/plain"]
        body = "".join(t.decode() for t in texts if isinstance(t, bytes))
        self.messages.append({"to": envelope.rcpt_tos, "subject": message["Subject"], "body": body})
        return "250 OK"


def sms_to(stack: Settings, number: str) -> list[str]:
    path = stack.log_dir / "smsc-messages.jsonl"
    return [m["text"] for m in smsc.read_log(path) if m["direction"] == "to-phone" and m["receiver"] == number]


def reply(stack: Settings, number: str, text: str) -> None:
    asyncio.run(smsc.send_from_phone(stack.smsc_inject_port, number, stack.sms_sender, text))


@pytest.fixture(scope="module")
def channels() -> Iterator[tuple[Inbox, JsonPosts]]:
    inbox, target = Inbox(), JsonPosts()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    yield inbox, target
    controller.stop()
    target.close()


@pytest.fixture(scope="module")
def outage(stack: Settings, channels: tuple[Inbox, JsonPosts]) -> dict[str, Any]:
    """A dry tap in a district with a leader on SMS, a second step on SMS, email and JSON subscribers."""
    _, target = channels
    operator = httpx.Client(base_url=base(stack), headers=api_headers(stack, "operator"), timeout=10)
    register(stack, "it-phones-water", -12.0700, -76.9800, "water", ["water_pressure"], district=DISTRICT)
    register(stack, "it-phones-far", -12.3000, -76.8000, "water", ["water_pressure"], district=ELSEWHERE)
    assert operator.put("/sensors/it-phones-water/place", json={"place": PLACE}).status_code == 204
    leader = httpx.Client(base_url=base(stack), headers=api_headers(stack, "leader", DISTRICT), timeout=10)
    subscriptions: dict[str, dict[str, Any]] = {
        "rosa": {"channel": "sms", "target": "987 654 321", "name": "Rosa Quispe"},
        "jorge": {"channel": "sms", "target": JORGE, "name": "Jorge Mamani", "wait_minutes": 1},
        "email": {"channel": "email", "target": "junta@example.org", "language": "en"},
        "json": {"channel": "apprise", "target": f"json://127.0.0.1:{target.port}/vigia"},
    }
    ids = {}
    for who, fields in subscriptions.items():
        created = leader.post("/subscriptions", json={"district": DISTRICT, "min_severity": "warning", **fields})
        assert created.status_code == 201, created.text
        ids[who] = created.json()["subscription_id"]
    far = operator.post("/subscriptions", json={"district": ELSEWHERE, "channel": "sms", "target": FAR})
    assert far.status_code == 201, far.text

    listener = Listener(f"{base(stack)}/alerts/stream", api_headers(stack, "operator"))
    listener.wait_for(lambda e: e.get("event") == "ready", timeout=10)
    publish_dry_spell(stack, "it-phones-water", DISTRICT)
    publish_dry_spell(stack, "it-phones-far", ELSEWHERE)
    return {"ids": ids, "listener": listener, "leader": leader, "operator": operator}


def test_subscribing_a_phone_stores_it_in_e164_and_refuses_what_is_not_a_target(
    stack: Settings, outage: dict[str, Any]
) -> None:
    leader: httpx.Client = outage["leader"]
    mine = {s["name"]: s for s in leader.get("/subscriptions").json()}
    assert mine["Rosa Quispe"]["target"] == ROSA
    refused = {
        "not a number": leader.post("/subscriptions", json={"district": DISTRICT, "channel": "sms", "target": "12"}),
        "unknown channel": leader.post(
            "/subscriptions", json={"district": DISTRICT, "channel": "pigeon", "target": "x"}
        ),
        "not an address": leader.post(
            "/subscriptions", json={"district": DISTRICT, "channel": "email", "target": "junta"}
        ),
        "half quiet": leader.post(
            "/subscriptions",
            json={"district": DISTRICT, "channel": "sms", "target": JORGE, "quiet_from": "22:00:00"},
        ),
    }
    assert {k: r.status_code for k, r in refused.items()} == dict.fromkeys(refused, 422)
    assert "not a valid phone number" in refused["not a number"].json()["detail"]


def test_a_leader_gets_one_sms_replies_ok_and_the_alert_is_acknowledged_by_her(
    stack: Settings, outage: dict[str, Any]
) -> None:
    text = eventually(lambda: sms_to(stack, ROSA), timeout=120, what="the SMS to the leader")[0]
    assert text.startswith(f"Aviso: Sin agua en {PLACE} desde "), text
    assert len(text) <= 160
    code = re.search(r"OK (\d{4,5})", text)
    assert code is not None, text
    alert_id = query(stack, "SELECT alert_id::text FROM alert_codes WHERE code = %(c)s", {"c": code[1]})[0][0]

    # A stranger's number and a leader's garbage change nothing; the stranger hears nothing back.
    reply(stack, STRANGER, f"OK {code[1]}")
    reply(stack, ROSA, "hola, que pasa")
    eventually(lambda: [t for t in sms_to(stack, ROSA) if t.startswith("No entendimos")], what="the how-to answer")
    assert query(stack, "SELECT state FROM alerts WHERE alert_id = %(a)s", {"a": alert_id})[0][0] == "open"

    # The code of an alert in a district she is not subscribed to is not hers to acknowledge.
    far_code = eventually(
        lambda: query(
            stack,
            "SELECT c.code, c.alert_id::text FROM alert_codes c JOIN alerts a USING (alert_id)"
            " WHERE a.district = %(d)s",
            {"d": ELSEWHERE},
        ),
        timeout=120,
        what="the far alert's code",
    )[0]
    reply(stack, ROSA, f"ok {far_code[0]}")
    eventually(lambda: [t for t in sms_to(stack, ROSA) if t.startswith("No encontramos")], what="the refusal")
    assert query(stack, "SELECT state FROM alerts WHERE alert_id = %(a)s", {"a": far_code[1]})[0][0] == "open"

    reply(stack, ROSA, f"ok {code[1]}")
    answer = eventually(lambda: [t for t in sms_to(stack, ROSA) if t.startswith("Gracias")], what="the thanks")[0]
    assert answer == f"Gracias. Alerta {code[1]} (Sin agua) en atencion; avisamos a los demas."
    seen = outage["operator"].get(f"/alerts/{alert_id}").json()
    assert (seen["state"], seen["acknowledged_by"]) == ("acknowledged", "Rosa Quispe (SMS)")
    live = outage["listener"].wait_for(change_of("it-phones-water", "acknowledged"), timeout=30)
    assert live["alert"]["acknowledged_by"] == "Rosa Quispe (SMS)"
    assert query(stack, "SELECT count(*) FROM replies WHERE sender = %(s)s", {"s": STRANGER})[0][0] == 1
    assert not sms_to(stack, STRANGER)

    # The network's receipt is on the delivery log; a viewer sees the number masked.
    def received() -> list[dict[str, Any]]:
        rows = outage["leader"].get("/deliveries", params={"alert_id": alert_id}).json()
        return [d for d in rows if d["to"] == ROSA and d["change"] == "opened" and d["receipt"] == "delivered"]

    delivered = eventually(received, what="the delivery receipt")[0]
    assert (delivered["channel"], delivered["status"]) == ("sms", "delivered")
    assert delivered["answer"].startswith("0: Accepted")
    tried = outage["leader"].get(f"/deliveries/{delivered['delivery_id']}/attempts").json()
    assert [(a["channel"], a["delivered"], a["status"]) for a in tried] == [("sms", True, 202)]
    assert tried[0]["answer"] == delivered["answer"]
    assert (
        httpx.get(
            f"{base(stack)}/deliveries/{delivered['delivery_id']}/attempts", headers=api_headers(stack, "leader", "x")
        ).status_code
        == 404
    )  # another district's leader
    masked = httpx.get(
        f"{base(stack)}/deliveries", params={"alert_id": alert_id}, headers=api_headers(stack, "viewer")
    ).json()
    assert {d["to"] for d in masked if d["channel"] == "sms"} == {"+51*****4321", "+51*****2333"}
    assert all(d["answer"] is None for d in masked)

    # The second step of the chain was due a minute after the opening: skipped, since Rosa answered.
    def escalation() -> list[tuple[str, str]]:
        sql = "SELECT status, coalesce(last_error, '') FROM deliveries WHERE subscription_id = %(s)s"
        rows = query(stack, sql, {"s": outage["ids"]["jorge"]})
        return [(status, why) for status, why in rows if status != "pending"]

    assert eventually(escalation, timeout=120, what="the escalation step's fate")[0][0] == "skipped"
    assert not [t for t in sms_to(stack, JORGE) if "Sin agua" in t]


def test_email_and_an_apprise_json_target_get_the_alert(
    stack: Settings, channels: tuple[Inbox, JsonPosts], outage: dict[str, Any]
) -> None:
    inbox, target = channels
    mail = eventually(lambda: inbox.messages, timeout=120, what="the email")[0]
    assert mail["to"] == ["junta@example.org"]
    assert mail["subject"].startswith("Warning: No water - Mz. C")
    assert "No water at Mz. C, AA.HH. Villa Hermosa" in mail["body"]
    post = eventually(target.messages, timeout=60, what="the JSON post")[0]
    assert post.startswith("Aviso: Sin agua en Mz. C")
