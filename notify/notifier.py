"""The notifier: alert changes from the alerts topic become messages owed to subscribers, then sent.

Three loops share one process:
- take: reads the alerts topic (its own consumer group), writes one delivery row per
  interested subscription, and only then commits the offsets, so a crash re-reads and the
  unique key of a delivery keeps it from being owed twice;
- send: claims due deliveries with a lease (several notifiers can run), sends each through
  its channel, and records the outcome; failures come back with a growing delay;
- remind: recalls critical alerts nobody has acknowledged, once per reminder interval;
- digest: gathers what a subscriber's hourly limit held back into one message.

Before a due delivery is sent, `delivery.decide` says whether it still should be: an
escalation step someone else's acknowledgement made moot is skipped, a non-critical message
waits out quiet hours, and past the hourly limit it is held for the digest.

The delivery table is the log: every attempt's status and error stay readable through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter as Metric
from prometheus_client import start_http_server
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from notify import repo
from notify.apprise_channel import RAW, AppriseChannel
from notify.channels import Channel, Delivery, MessageLog, Outcome, Webhook
from notify.delivery import Decision, Defer, Due, Send, Skip, decide, reminder_slot, retry_after
from notify.digest import digest
from notify.owed import PHONE_CHANNELS, Facts, owed
from notify.sms import KannelSms
from vigia import logs, topics
from vigia.contracts import Alert, AlertState, HousingContext, Severity
from vigia.heartbeat import beat_forever, heartbeat_path
from vigia.settings import Settings

log = logging.getLogger(__name__)

DELIVERIES = Metric("vigia_notifier_deliveries_total", "Delivery attempts by channel and result", ["channel", "result"])
OWED = Metric("vigia_notifier_owed_total", "Messages owed to subscribers, by change", ["change"])

GROUP = "vigia-notifier"
SEND_BATCH = 50
LIVE = {AlertState.OPEN, AlertState.ACKNOWLEDGED}
LEASE = timedelta(minutes=2)


def alert_from_row(row: dict[str, Any], change: str, changed_at: datetime) -> Alert:
    return Alert(
        alert_id=row["alert_id"], rule=row["rule"], sensor_id=row["sensor_id"], metric=row["metric"],
        district=row["district"], tile_id=row["tile_id"], severity=Severity(row["severity"]),
        state=AlertState(row["state"]), opened_at=row["opened_at"], updated_at=row["updated_at"],
        summary=row["detail"], change=change, changed_at=changed_at, title_es=row["title_es"],
        title_en=row["title_en"], value=row["value"],
        housing=HousingContext(
            embedding_id=row["embedding_id"], model_version=row["model_version"],
            land_use_class=row["land_use_class"], housing_score=row["housing_score"],
            precarious_share=row["precarious_share"],
        ),
    )  # fmt: skip


class Notifier:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, channels: dict[str, Channel]) -> None:
        self.settings = settings
        self.pool = pool
        self.channels = channels
        self.remind_every = timedelta(minutes=settings.reminder_minutes)

    async def _owed(
        self, conn: AsyncConnection, alerts: Sequence[Alert], now: datetime, *, reminder: bool = False
    ) -> list[dict[str, Any]]:
        subs = await repo.subscribers(conn, districts=sorted({a.district for a in alerts}))
        if not subs:
            return []
        live = [(a.alert_id, a.district) for a in alerts if a.state in LIVE]
        ended = [a.alert_id for a in alerts if a.state not in LIVE]
        codes = await repo.reply_codes(conn, live=live, ended=ended)
        known = await repo.alert_facts(conn, alert_ids=[a.alert_id for a in alerts])
        facts = {alert_id: Facts(place, by) for alert_id, (place, by) in known.items()}
        return [row for a in alerts for row in owed(a, subs, now, codes=codes, facts=facts, reminder=reminder)]

    async def take(self, alerts: Sequence[Alert], now: datetime) -> int:
        if not alerts:
            return 0
        async with self.pool.connection() as conn:
            rows = await self._owed(conn, alerts, now)
            added = await repo.queue_deliveries(conn, rows)
        for row in rows:
            OWED.labels(row["change"]).inc()
        return added

    async def remind(self, now: datetime) -> int:
        async with self.pool.connection() as conn:
            due = await repo.unacknowledged_critical(conn, opened_before=now - self.remind_every)
            if not due:
                return 0
            alerts = []
            for row in due:
                slot = reminder_slot(row["opened_at"], now, self.remind_every)
                alerts.append(alert_from_row(row, "reminder", row["opened_at"] + slot * self.remind_every))
            added = await repo.queue_deliveries(conn, await self._owed(conn, alerts, now, reminder=True))
        OWED.labels("reminder").inc(added)
        return added

    async def send_due(self, limit: int = SEND_BATCH) -> int:
        async with self.pool.connection() as conn:
            claimed = await repo.claim_due(conn, limit=limit, lease=LEASE)
        now = datetime.now(UTC)
        sending, set_aside, sent_now = [], [], Counter[str]()
        for row in claimed:
            decision = self._decide(row, now, sent_now[row["subscription_id"]])
            if isinstance(decision, Send):
                sent_now[row["subscription_id"]] += 1
                sending.append(row)
            else:
                set_aside.append((row, decision))
        if set_aside:
            async with self.pool.connection() as conn:  # one connection for the round's set-asides
                for row, decision in set_aside:
                    if isinstance(decision, Skip):
                        await repo.set_aside(
                            conn, delivery_id=row["delivery_id"], status="skipped", why=decision.reason
                        )
                    elif isinstance(decision, Defer):
                        await repo.set_aside(
                            conn, delivery_id=row["delivery_id"], status="pending", until=decision.until
                        )
                    else:
                        await repo.set_aside(conn, delivery_id=row["delivery_id"], status="held")
                    DELIVERIES.labels(row["channel"], type(decision).__name__.lower()).inc()
        await asyncio.gather(*(self._send(row) for row in sending))
        return len(claimed)

    @staticmethod
    def _decide(row: dict[str, Any], now: datetime, sent_now: int) -> Decision:
        if row["change"] == "digest":
            return Send()  # made only when the subscriber has room for it
        quiet = (row["quiet_from"], row["quiet_until"]) if row["quiet_from"] is not None else None
        due = Due(
            change=row["change"], severity=row["severity"], alert_state=row["alert_state"],
            wait_minutes=row["wait_minutes"], told_of_opening=row["told_of_opening"], quiet=quiet,
            sent_last_hour=row["sent_last_hour"] + sent_now, max_per_hour=row["max_per_hour"],
            superseded=row["superseded"],
        )  # fmt: skip
        return decide(due, now)

    async def digest_held(self, now: datetime) -> int:
        """One digest per subscriber with held deliveries and room in their hour again."""
        async with self.pool.connection() as conn:
            rows = await repo.held(conn)
        groups: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            if row["has_room"]:
                groups.setdefault(row["subscription_id"], []).append(row)
        made = 0
        for subscription_id, held in groups.items():
            short = held[0]["channel"] in PHONE_CHANNELS
            message = digest(held, held[0]["language"], now, short=short)
            payload = {"subscription_id": subscription_id, "change": "digest",
                       "message": {"language": held[0]["language"], "subject": message[:60], "body": message},
                       "alerts": [row["alert"] for row in held]}  # fmt: skip
            async with self.pool.connection() as conn:
                try:
                    digest_id = await repo.queue_digest(
                        conn, subscription_id=subscription_id, delivery_ids=[r["delivery_id"] for r in held],
                        alert_id=held[0]["alert_id"], message=message, payload=orjson.dumps(payload).decode(),
                    )  # fmt: skip
                except repo.RetryDigest:
                    continue
            made += digest_id is not None
        return made

    async def _send(self, row: dict[str, Any]) -> None:
        channel = self.channels.get(row["channel"])
        if row["deleted_at"] is not None or channel is None:
            why = "subscription deleted" if row["deleted_at"] else f"no channel {row['channel']!r} here"
            outcome = Outcome(False, None, why)
            retry_in = None
        else:
            message = row["payload"].get("message", {})
            delivery = Delivery(
                row["delivery_id"], row["channel"], row["target"], row["signing_secret"], row["message"],
                row["payload"], subject=message.get("subject", ""),
            )  # fmt: skip
            outcome = await channel.send(delivery)
            retry_in = None if outcome.delivered else retry_after(row["attempts"] + 1)
            result = "delivered" if outcome.delivered else "retrying" if retry_in else "failed"
            DELIVERIES.labels(row["channel"], result).inc()
            if not outcome.delivered:
                log.info("delivery %s failed (%s %s); %s", row["delivery_id"], outcome.status, outcome.error,
                         f"again in {retry_in}" if retry_in else "giving up")  # fmt: skip
        async with self.pool.connection() as conn:
            await repo.record_outcome(
                conn, delivery_id=row["delivery_id"], channel=row["channel"], delivered=outcome.delivered,
                status=outcome.status, error=outcome.error, answer=outcome.answer, retry_in=retry_in,
            )  # fmt: skip


def decode(values: Sequence[bytes | None]) -> list[Alert]:
    alerts = []
    for value in values:
        try:
            alerts.append(Alert.model_validate_json(value or b""))
        except ValidationError as error:
            log.warning("skipping a record on the alerts topic that is not an alert: %s", error)
    return alerts


async def _consume(notifier: Notifier, settings: Settings, started: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        topics.ALERTS,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=GROUP,
        enable_auto_commit=False,
        auto_offset_reset="latest",  # a new notifier starts from now, not from four weeks of history
    )
    await consumer.start()
    started.set()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            records = [r for batch in batches.values() for r in batch]
            if records:
                await notifier.take(decode([r.value for r in records]), datetime.now(UTC))
                await consumer.commit()
    finally:
        await consumer.stop()


async def _every(
    seconds: float, work: Callable[[], Awaitable[int]], *, more: Callable[[int], bool] = lambda done: False
) -> None:
    """Run `work` every `seconds`, or again at once while `more` says its round left work behind."""
    while True:
        try:
            again = more(await work())
        except Exception:  # one bad round must not stop the loop; the next one tries again
            log.exception("notifier round failed")
            again = False
        if not again:
            await asyncio.sleep(seconds)


async def serve(settings: Settings) -> None:
    async with (
        AsyncConnectionPool(
            settings.db_conninfo,
            min_size=1,
            max_size=4,
            name="vigia-notifier",
            check=AsyncConnectionPool.check_connection,  # a connection a database restart dropped is replaced
        ) as pool,
        httpx.AsyncClient(timeout=10, follow_redirects=False) as client,
    ):
        channels: dict[str, Channel] = {
            "webhook": Webhook(client),
            "log": MessageLog(settings.log_dir / "messages.log"),
            "sms": KannelSms(client, settings),
            RAW: AppriseChannel(RAW, settings.apprise_urls),
            **{name: AppriseChannel(name, settings.apprise_urls) for name in settings.apprise_urls},
        }
        notifier = Notifier(settings, pool, channels)
        if settings.notifier_metrics_port:
            start_http_server(settings.notifier_metrics_port, addr=settings.bind_host)
        consuming = asyncio.Event()
        tasks = [
            asyncio.create_task(_consume(notifier, settings, consuming), name="take"),
            asyncio.create_task(
                beat_forever(heartbeat_path(settings.state_dir, "notifier"), alive=consuming.is_set), name="heartbeat"
            ),
            asyncio.create_task(
                _every(settings.notifier_poll_seconds, notifier.send_due, more=lambda sent: sent >= SEND_BATCH),
                name="send",
            ),
            asyncio.create_task(_every(60, lambda: notifier.remind(datetime.now(UTC))), name="remind"),
            asyncio.create_task(_every(30, lambda: notifier.digest_held(datetime.now(UTC))), name="digest"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # the consumer failing is fatal: the supervisor restarts the process
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)


def run(settings: Settings) -> None:
    logs.setup("notifier")
    asyncio.run(serve(settings))
