"""SQL of the notifier: who is subscribed, the deliveries owed, claimed and their outcomes.

Deliveries are rows written before the alerts topic's offsets are committed; sending
claims them with a lease (`SKIP LOCKED`), so several notifiers can run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row


async def _all(conn: AsyncConnection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(query, params)
    return await cur.fetchall()


async def subscribers(conn: AsyncConnection, *, districts: list[str]) -> list[dict[str, Any]]:
    """Active subscriptions of these districts, with what sending needs."""
    return await _all(
        conn,
        """SELECT subscription_id::text AS subscription_id, district, min_severity, channel, target, language, place
            FROM subscriptions
            WHERE deleted_at IS NULL AND district = ANY(%(districts)s::text[])""",
        {"districts": districts},
    )


async def queue_deliveries(conn: AsyncConnection, rows: list[dict[str, Any]]) -> int:
    """Owed messages; one already owed for the same subscription, alert, change and time is not added again."""
    if not rows:
        return 0
    async with conn.cursor() as cur:
        await cur.executemany(
            """INSERT INTO deliveries (subscription_id, alert_id, change, event_time, message, payload)
               VALUES (%(subscription_id)s, %(alert_id)s, %(change)s, %(event_time)s, %(message)s, %(payload)s)
               ON CONFLICT (subscription_id, alert_id, change, event_time) DO NOTHING""",
            rows,
        )
        return cur.rowcount


async def claim_due(conn: AsyncConnection, *, limit: int, lease: timedelta) -> list[dict[str, Any]]:
    """Due deliveries, leased for `lease` so another notifier leaves them alone while this one sends."""
    return await _all(
        conn,
        """UPDATE deliveries d SET next_attempt_at = now() + %(lease)s
           FROM subscriptions s
           WHERE d.subscription_id = s.subscription_id AND d.delivery_id IN (
               SELECT delivery_id FROM deliveries
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
           RETURNING d.delivery_id, d.attempts, d.message, d.payload, s.channel, s.target, s.signing_secret,
                     s.deleted_at""",
        {"limit": limit, "lease": lease},
    )


async def record_outcome(
    conn: AsyncConnection,
    *,
    delivery_id: int,
    delivered: bool,
    status: int | None,
    error: str | None,
    retry_in: timedelta | None,
) -> None:
    """After an attempt: delivered, due again in `retry_in`, or failed for good when that is None."""
    await conn.execute(
        """UPDATE deliveries SET attempts = attempts + 1, last_status = %(status)s, last_error = %(error)s,
                  status = CASE WHEN %(delivered)s THEN 'delivered'
                                WHEN %(retry_in)s::interval IS NULL THEN 'failed' ELSE 'pending' END,
                  delivered_at = CASE WHEN %(delivered)s THEN now() END,
                  next_attempt_at = now() + coalesce(%(retry_in)s::interval, interval '0')
           WHERE delivery_id = %(id)s""",
        {"id": delivery_id, "delivered": delivered, "status": status, "error": error, "retry_in": retry_in},
    )


async def unacknowledged_critical(conn: AsyncConnection, *, opened_before: datetime) -> list[dict[str, Any]]:
    return await _all(
        conn,
        """SELECT alert_id::text AS alert_id, rule, sensor_id, metric, district, tile_id, severity, state,
                  opened_at, updated_at, detail, title_es, title_en, value, embedding_id, model_version,
                  land_use_class, housing_score, precarious_share
            FROM alerts
            WHERE state = 'open' AND severity = 'critical' AND opened_at <= %(before)s""",
        {"before": opened_before},
    )
