"""The notifier: alert changes from the alerts topic become messages owed to subscribers, then sent.

Three loops share one process:
- take: reads the alerts topic (its own consumer group), writes one delivery row per
  interested subscription, and only then commits the offsets, so a crash re-reads and the
  unique key of a delivery keeps it from being owed twice;
- send: claims due deliveries with a lease (several notifiers can run), sends each through
  its channel, and records the outcome; failures come back with a growing delay;
- remind: recalls critical alerts nobody has acknowledged, once per reminder interval.

The delivery table is the log: every attempt's status and error stay readable through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, start_http_server
from psycopg_pool import AsyncConnectionPool
from pydantic import ValidationError

from notify import repo
from notify.channels import Channel, Delivery, MessageLog, Webhook
from notify.delivery import Interest, reminder_slot, retry_after, wants
from notify.messages import Language, render
from vigia import topics
from vigia.contracts import Alert, AlertState, HousingContext, Severity
from vigia.heartbeat import beat_forever, heartbeat_path
from vigia.settings import Settings

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "vigia_notifier_deliveries_total", "Delivery attempts by channel and result", ["channel", "result"]
)
OWED = Counter("vigia_notifier_owed_total", "Messages owed to subscribers, by change", ["change"])

GROUP = "vigia-notifier"
LEASE = timedelta(minutes=2)


def owed(
    alert: Alert, subscriptions: Sequence[dict[str, Any]], now: datetime, *, reminder: bool = False
) -> list[dict[str, Any]]:
    """Delivery rows for the subscriptions that want this change, each with its message in their language."""
    change = "reminder" if reminder else alert.change
    rows = []
    for sub in subscriptions:
        interest = Interest(sub["district"], sub["min_severity"])
        if not wants(
            interest, district=alert.district, severity=alert.severity.value, change="opened" if reminder else change
        ):
            continue
        language: Language = sub["language"]
        message = render(alert, language, place=sub["place"] or None, now=now, reminder=reminder)
        payload = {
            "subscription_id": sub["subscription_id"],
            "change": change,
            "message": {"language": language, "subject": message.subject, "body": message.body},
            "alert": alert.model_dump(mode="json"),
        }
        rows.append({
            "subscription_id": sub["subscription_id"], "alert_id": alert.alert_id, "change": change,
            "event_time": alert.changed_at or alert.updated_at, "message": message.body,
            "payload": orjson.dumps(payload).decode(),
        })  # fmt: skip
    return rows


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

    async def take(self, alerts: Sequence[Alert], now: datetime) -> int:
        if not alerts:
            return 0
        async with self.pool.connection() as conn:
            subs = await repo.subscribers(conn, districts=sorted({a.district for a in alerts}))
            rows = [row for alert in alerts for row in owed(alert, subs, now)]
            added = await repo.queue_deliveries(conn, rows)
        for row in rows:
            OWED.labels(row["change"]).inc()
        return added

    async def remind(self, now: datetime) -> int:
        async with self.pool.connection() as conn:
            due = await repo.unacknowledged_critical(conn, opened_before=now - self.remind_every)
            if not due:
                return 0
            subs = await repo.subscribers(conn, districts=sorted({row["district"] for row in due}))
            rows = []
            for row in due:
                slot = reminder_slot(row["opened_at"], now, self.remind_every)
                alert = alert_from_row(row, "reminder", row["opened_at"] + slot * self.remind_every)
                rows.extend(owed(alert, subs, now, reminder=True))
            added = await repo.queue_deliveries(conn, rows)
        OWED.labels("reminder").inc(added)
        return added

    async def send_due(self, limit: int = 50) -> int:
        async with self.pool.connection() as conn:
            claimed = await repo.claim_due(conn, limit=limit, lease=LEASE)
        await asyncio.gather(*(self._send(row) for row in claimed))
        return len(claimed)

    async def _send(self, row: dict[str, Any]) -> None:
        channel = self.channels.get(row["channel"])
        if row["deleted_at"] is not None or channel is None:
            why = "subscription deleted" if row["deleted_at"] else f"no channel {row['channel']!r} here"
            outcome_args: dict[str, Any] = {"delivered": False, "status": None, "error": why, "retry_in": None}
        else:
            delivery = Delivery(
                row["delivery_id"], row["channel"], row["target"], row["signing_secret"], row["message"], row["payload"]
            )
            outcome = await channel.send(delivery)
            retry_in = None if outcome.delivered else retry_after(row["attempts"] + 1)
            result = "delivered" if outcome.delivered else "retrying" if retry_in else "failed"
            DELIVERIES.labels(row["channel"], result).inc()
            if not outcome.delivered:
                log.info("delivery %s failed (%s %s); %s", row["delivery_id"], outcome.status, outcome.error,
                         f"again in {retry_in}" if retry_in else "giving up")  # fmt: skip
            outcome_args = {"delivered": outcome.delivered, "status": outcome.status, "error": outcome.error,
                            "retry_in": retry_in}  # fmt: skip
        async with self.pool.connection() as conn:
            await repo.record_outcome(conn, delivery_id=row["delivery_id"], **outcome_args)


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


async def _every(seconds: float, work: Any) -> None:
    while True:
        try:
            await work()
        except Exception:  # one bad round must not stop the loop; the next one tries again
            log.exception("notifier round failed")
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
            asyncio.create_task(_every(settings.notifier_poll_seconds, notifier.send_due), name="send"),
            asyncio.create_task(_every(60, lambda: notifier.remind(datetime.now(UTC))), name="remind"),
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(settings))
