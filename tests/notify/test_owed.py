"""Which messages an alert change owes: phones get the short SMS with the code, the rest the fuller words."""

from __future__ import annotations

from datetime import timedelta

import orjson

from notify.owed import Facts, owed
from tests.notify.test_messages import OPENED, outage

NOW = OPENED + timedelta(minutes=2)


def sub(channel: str, **changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "subscription_id": f"s-{channel}", "district": "san-juan-de-lurigancho", "min_severity": "warning",
        "channel": channel, "target": "x", "language": "es", "place": "Manzana C", "wait_minutes": 0,
    }  # fmt: skip
    fields.update(changes)
    return fields


def test_a_phone_gets_the_sms_with_the_code_and_email_the_full_message() -> None:
    rows = owed(outage(), [sub("sms"), sub("email")], NOW, codes={"a1": "4821"}, facts={})
    by_channel = {row["subscription_id"]: row for row in rows}
    assert by_channel["s-sms"]["message"].endswith("Responda OK 4821 si lo atiende, LISTO 4821 si ya se resolvio.")
    assert by_channel["s-email"]["message"] == (
        "URGENTE: Sin agua en Manzana C (zona de viviendas precarias) desde las 14:10."
    )
    payload = orjson.loads(by_channel["s-sms"]["payload"])
    assert (payload["reply_code"], payload["message"]["subject"]) == ("4821", "URGENTE: Sin agua - Manzana C")


def test_the_sensors_own_place_name_comes_before_the_subscriptions() -> None:
    facts = {"a1": Facts(place="Mz. C, AA.HH. Villa Hermosa")}
    [row] = owed(outage(), [sub("sms")], NOW, codes={"a1": "4821"}, facts=facts)
    assert "Sin agua en Mz. C, AA.HH. Villa Hermosa" in row["message"]


def test_an_escalation_step_is_owed_now_but_due_after_its_wait_and_only_for_the_opening() -> None:
    subs = [sub("sms"), sub("sms", subscription_id="s-next", wait_minutes=15)]
    due = {row["subscription_id"]: row["due_at"] for row in owed(outage(), subs, NOW, codes={}, facts={})}
    assert due == {"s-sms": NOW, "s-next": NOW + timedelta(minutes=15)}
    resolved = outage(change="resolved")
    assert {row["due_at"] for row in owed(resolved, subs, NOW, codes={}, facts={})} == {NOW}


def test_other_districts_and_lower_severities_owe_nothing() -> None:
    subs = [sub("sms", district="elsewhere"), sub("sms", min_severity="critical")]
    assert owed(outage(severity="warning"), subs, NOW, codes={}, facts={}) == []
