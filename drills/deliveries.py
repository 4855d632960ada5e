"""The delivery drill: alert changes to subscribers on three channels while the channels fail.

1,000 alert changes (250 alerts, each opened, updated, acknowledged and resolved) in ten
districts, five subscribers each: two by SMS (the stack's Kannel, to the stand-in SMSC),
two by email (Apprise, to an SMTP server this drill runs on loopback) and one webhook. While
they flow, Kannel's bearerbox is killed and held down, and the SMTP server refuses every
message for 30 s. Then the drill counts, at the receivers, what arrived: every message owed
must arrive, and none twice.

    python -m drills.deliveries [--changes 1000] [--kannel-down 10] [--smtp-refuses 30]

Last line: deliveries=… lost=… duplicated=…
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.common import bench_stack
from drills import faults
from simulate import smsc
from vigia import topics
from vigia.contracts import Alert, AlertState, Severity
from vigia.kafka import producer
from vigia.settings import Settings

SMTP_PORT = 30025
STACK = ["kafka", "timescaledb", "kannel", "smsbox", "smsc", "notifier", "api"]
DRILL_ENV = {
    "VIGIA_APPRISE_URLS": json.dumps({"email": f"mailto://127.0.0.1:{SMTP_PORT}/{{target}}?from=vigia@example.org"})
}
DISTRICTS = 10
CHANGES = ("opened", "updated", "acknowledged", "resolved")


class Inbox:
    """An SMTP server that refuses everything while `refusing` is set, and keeps what it accepts."""

    def __init__(self) -> None:
        self.received: Counter[tuple[str, str]] = Counter()
        self.refusing = threading.Event()
        self.refused = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refusing.is_set():
            self.refused += 1
            return "451 4.3.2 not accepting messages now"
        message = message_from_bytes(envelope.content if isinstance(envelope.content, bytes) else b"")
        texts = [p.get_payload(decode=True) for p in message.walk() if p.get_content_type() == "text/plain"]
        body = "".join(t.decode() for t in texts if isinstance(t, bytes)).strip()
        for to in envelope.rcpt_tos:
            self.received[(to, body)] += 1
        return "250 OK"


class Hooks:
    """A webhook receiver counting each delivery id."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hooks.received[self.headers.get("X-Vigia-Delivery", "")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def subscribe(settings: Settings, hook_url: str) -> int:
    """Five subscribers in each district; returns how many."""
    rows = []
    for d in range(DISTRICTS):
        district = f"drill-d{d}"
        rows += [(district, "sms", f"+519{d:02d}00000{n}") for n in (1, 2)]
        rows += [(district, "email", f"leader{n}@d{d}.example.org") for n in (1, 2)]
        rows += [(district, "webhook", hook_url)]
    with psycopg.connect(settings.db_conninfo) as conn:
        for district, channel, target in rows:
            conn.execute(
                """INSERT INTO subscriptions (subscription_id, district, min_severity, channel, target, language,
                                              signing_secret, created_by, max_per_hour)
                   VALUES (gen_random_uuid(), %s, 'info', %s, %s, 'es', 'drill-secret', 'drill', 600)""",
                (district, channel, target),
            )
    return len(rows)


def changes(count: int) -> list[Alert]:
    """`count` alert changes: each alert opened, updated, acknowledged and resolved, in order."""
    start = datetime.now(UTC) - timedelta(hours=1)
    out = []
    for i in range(count // len(CHANGES)):
        opened = start + timedelta(seconds=i)
        base = {
            "alert_id": str(uuid.uuid4()), "rule": "drill", "sensor_id": f"drill-{i:04d}", "metric": None,
            "district": f"drill-d{i % DISTRICTS}", "tile_id": "17/1/1", "severity": Severity.WARNING,
            "opened_at": opened, "summary": "drill", "title_es": f"Prueba {i:04d}", "title_en": f"Drill {i:04d}",
        }  # fmt: skip
        for step, change in enumerate(CHANGES):
            state = {"acknowledged": AlertState.ACKNOWLEDGED, "resolved": AlertState.RESOLVED}.get(change)
            at = opened + timedelta(minutes=5 * step)
            out.append(Alert(**base, state=state or AlertState.OPEN, updated_at=at, change=change, changed_at=at))
    return out


async def produce(settings: Settings, alerts: list[Alert], per_second: float) -> None:
    kafka = producer(settings)
    await kafka.start()
    try:
        for alert in alerts:
            await kafka.send_and_wait(topics.ALERTS, alert.model_dump_json().encode(), key=alert.sensor_id.encode())
            await asyncio.sleep(1 / per_second)
    finally:
        await kafka.stop()


def owed(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = conn.execute("SELECT status, count(*) FROM deliveries GROUP BY 1").fetchall()
    return {status: int(n) for status, n in rows}


def kannel_answers(settings: Settings) -> dict[str, int]:
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = conn.execute(
            "SELECT coalesce(answer, last_error, '?'), count(*) FROM deliveries WHERE channel = 'sms' GROUP BY 1"
        ).fetchall()
    return {str(answer)[:40]: int(n) for answer, n in rows}


def warm_up(settings: Settings, hook_url: str) -> None:
    """The notifier starts from the topic's end once it has its partitions: until one of our alerts is
    owed, it may not have them yet, and what is produced before would be skipped."""
    with psycopg.connect(settings.db_conninfo) as conn:
        conn.execute(
            """INSERT INTO subscriptions (subscription_id, district, min_severity, channel, target, language,
                                          signing_secret, created_by)
               VALUES (gen_random_uuid(), 'drill-warmup', 'info', 'webhook', %s, 'es', 'x', 'warm-up')""",
            (hook_url,),
        )
    for _ in range(60):
        [alert] = changes(len(CHANGES))[:1]
        asyncio.run(produce(settings, [alert.model_copy(update={"district": "drill-warmup"})], 100))
        time.sleep(2)
        with psycopg.connect(settings.db_conninfo) as conn:
            if conn.execute("SELECT count(*) FROM deliveries").fetchone() != (0,):
                return
    raise RuntimeError("the notifier took none of the warm-up alerts")


def expected(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """What each channel must have received: (number or address, text), or the delivery id for webhooks."""
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = conn.execute(
            """SELECT s.channel, s.target, d.message, d.delivery_id::text FROM deliveries d
               JOIN subscriptions s USING (subscription_id) WHERE s.created_by = 'drill'"""
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {"sms": [], "email": [], "webhook": []}
    for channel, target, message, delivery_id in rows:
        out[channel].append((delivery_id, "") if channel == "webhook" else (target, message))
    return out


def run(args: argparse.Namespace) -> int:
    inbox, hooks = Inbox(), Hooks()
    controller = Controller(inbox, hostname="127.0.0.1", port=SMTP_PORT)
    controller.start()
    try:
        with bench_stack(STACK, DRILL_ENV) as settings:
            return drill(settings, args, inbox, hooks)
    finally:
        controller.stop()
        hooks.server.shutdown()


def drill(settings: Settings, args: argparse.Namespace, inbox: Inbox, hooks: Hooks) -> int:
    warm_up(settings, hooks.url)
    began = time.monotonic()
    subscribers = subscribe(settings, hooks.url)
    alerts = changes(args.changes)
    owed_total = len(alerts) * subscribers // DISTRICTS
    print(f"{len(alerts):,} alert changes to {subscribers} subscribers: {owed_total:,} messages owed", flush=True)
    sending = threading.Thread(target=lambda: asyncio.run(produce(settings, alerts, args.rate)))
    sending.start()
    time.sleep(3)
    inbox.refusing.set()
    print(f"SMTP refuses for {args.smtp_refuses:g} s", flush=True)
    threading.Timer(args.smtp_refuses, inbox.refusing.clear).start()
    time.sleep(3)
    boxes = [box for box in args.kill.split(",") if box]
    print(f"Kannel's {' and '.join(boxes)} killed, down for {args.kannel_down:g} s", flush=True)
    killed = [threading.Thread(target=faults.kill_and_hold, args=(settings, box, args.kannel_down)) for box in boxes]
    for thread in killed:
        thread.start()
    for thread in killed:
        thread.join()
    sending.join()
    log = settings.log_dir / "smsc-messages.jsonl"
    deadline = time.monotonic() + args.timeout
    last, steady = -1, 0
    sms: Counter[tuple[str, str]] = Counter()
    while time.monotonic() < deadline:
        sms = Counter((m["receiver"], m["text"]) for m in smsc.read_log(log) if m["direction"] == "to-phone")
        got = sum(sms.values()) + sum(inbox.received.values()) + sum(hooks.received.values())
        pending = owed(settings).get("pending", 0)
        print(f"  received {got:,} of {owed_total:,}; {pending:,} deliveries pending", flush=True)
        steady = steady + 1 if got == last and pending == 0 else 0
        if steady >= 3:
            break
        last = got
        time.sleep(5)
    want = expected(settings)
    received = {
        "sms": sms,
        "email": inbox.received,
        "webhook": Counter({(k, ""): n for k, n in hooks.received.items()}),
    }
    lost = duplicated = 0
    for channel, keys in want.items():
        wanted = Counter(keys)
        lost += sum(max(0, n - received[channel][key]) for key, n in wanted.items())
        duplicated += sum(max(0, received[channel][key] - n) for key, n in wanted.items())
        print(f"  {channel}: owed {sum(wanted.values()):,}, received {sum(received[channel].values()):,}", flush=True)
    owed_rows = sum(len(keys) for keys in want.values())
    lost += max(0, owed_total - owed_rows)  # changes the notifier never made deliveries of
    print(f"SMTP refused {inbox.refused} attempts; final statuses: {owed(settings)}", flush=True)
    print(f"Kannel's answers: {kannel_answers(settings)}; took {time.monotonic() - began:.0f} s", flush=True)
    print(f"deliveries={owed_total} lost={lost} duplicated={duplicated}", flush=True)
    return 0 if lost == 0 else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50, help="alert changes a second")
    parser.add_argument("--kannel-down", type=float, default=10)
    parser.add_argument("--kill", default="kannel,smsbox", help="Kannel's boxes to kill: kannel (bearerbox), smsbox")
    parser.add_argument("--smtp-refuses", type=float, default=30)
    parser.add_argument("--timeout", type=float, default=900, help="longest wait for what is owed")
    raise SystemExit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
