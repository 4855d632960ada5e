"""The demo's community leader: a phone number subscribed by SMS, which answers an alert with its code.

Messages go through the stack's Kannel to the stand-in carrier SMSC, whose log the demo
prints; the leader's answer goes back the same way, and the alert shows as acknowledged by
her on the page.
"""

from __future__ import annotations

import asyncio
import re
import time
from datetime import datetime

import httpx
import psycopg

from simulate import smsc
from simulate.phone_cli import log_path
from vigia.settings import Settings
from vigia.terminal import console

LEADER_NUMBER = "+51987000111"
LEADER_NAME = "Rosa (lideresa)"
CODE = re.compile(r"\bOK (\d{4,5})\b")


def subscribe_leader(api: httpx.Client, district: str) -> None:
    """The district's leader hears of its critical alerts by SMS, in Spanish (subscribed afresh each run)."""
    for old in api.get("/subscriptions").json():
        if old["district"] == district and old["target"] == LEADER_NUMBER:
            api.delete(f"/subscriptions/{old['subscription_id']}").raise_for_status()
    api.post(
        "/subscriptions",
        json={
            "district": district,
            "channel": "sms",
            "target": LEADER_NUMBER,
            "name": LEADER_NAME,
            "language": "es",
            "min_severity": "critical",  # the demo replays a day: warnings alone would fill her hour
            "max_per_hour": 30,
        },
    ).raise_for_status()


def _to_leader(settings: Settings, since: float) -> list[dict[str, str]]:
    return [
        m for m in smsc.read_log(log_path(settings))
        if LEADER_NUMBER in (m["receiver"], m["sender"]) and _epoch(m["at"]) >= since
    ]  # fmt: skip


def _epoch(at: str) -> float:
    return datetime.fromisoformat(at).timestamp()


def _open_code(settings: Settings, codes: list[str]) -> str | None:
    """The first of these codes whose alert is still open."""
    if not codes:
        return None
    with psycopg.connect(settings.db_conninfo) as conn:
        row = conn.execute(
            """SELECT c.code FROM alert_codes c JOIN alerts a USING (alert_id)
               WHERE c.code = ANY(%(codes)s) AND c.released_at IS NULL AND a.state = 'open'
               ORDER BY array_position(%(codes)s, c.code) LIMIT 1""",
            {"codes": codes},
        ).fetchone()
    return str(row[0]) if row else None


def leader_answers(settings: Settings, since: float, wait: float = 90.0) -> None:
    """Wait for an SMS to the leader, print what reached her phone, and answer the first open alert's code."""
    deadline = time.monotonic() + wait
    code = None
    with console.status("waiting for an SMS to the district's leader"):
        while time.monotonic() < deadline and code is None:
            texts = [m["text"] for m in _to_leader(settings, since) if m["direction"] == "to-phone"]
            code = _open_code(settings, [match[1] for t in texts if (match := CODE.search(t))])
            if code is None:
                time.sleep(1)
    _print(settings, since)
    if code is None:
        console.print("no open alert reached the leader's phone in time; `vigia smsc log` shows what did")
        return
    console.print(f"the leader answers: OK {code}")
    asyncio.run(smsc.send_from_phone(settings.smsc_inject_port, LEADER_NUMBER, settings.sms_sender, f"OK {code}"))
    with console.status("waiting for the confirmation"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answers = [m for m in _to_leader(settings, since) if m["text"].startswith(f"Gracias. Alerta {code}")]
            if answers:
                break
            time.sleep(0.5)
    _print(settings, since, last=2)
    console.print(f"answer another with: vigia smsc reply {LEADER_NUMBER} 'LISTO <code>'")


def _print(settings: Settings, since: float, last: int = 5) -> None:
    console.print(f"SMS centre log (stand-in carrier), {log_path(settings)}:")
    for m in _to_leader(settings, since)[-last:]:
        arrow = "->" if m["direction"] == "to-phone" else "<-"
        console.print(f"  {m['at'][11:19]} {arrow} {LEADER_NUMBER}: {m['text']}", highlight=False, markup=False)
