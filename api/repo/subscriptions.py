"""SQL of subscriptions and their delivery log, as the API manages them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from api.repo.rows import IN_DISTRICTS, all_rows, in_districts, one_row, present

SUBSCRIPTION_COLUMNS = """subscription_id::text AS subscription_id, district, min_severity, channel, target, language,
                          place, name, wait_minutes, quiet_from, quiet_until, max_per_hour, created_by, created_at"""
DELIVERY_COLUMNS = """d.delivery_id, d.alert_id::text AS alert_id, d.change, d.event_time, d.message, d.status,
                      d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at,
                      d.channel, d.answer, d.receipt, d.receipt_at"""


async def create_subscription(conn: AsyncConnection, **fields: Any) -> dict[str, Any]:
    """A new subscription; `fields` are its columns. The signing secret is returned with it, this once."""
    row = await one_row(
        conn,
        f"""INSERT INTO subscriptions (subscription_id, district, min_severity, channel, target, language, place,
                                       name, wait_minutes, quiet_from, quiet_until, max_per_hour, signing_secret,
                                       created_by)
            VALUES (gen_random_uuid(), %(district)s, %(min_severity)s, %(channel)s, %(target)s, %(language)s,
                    %(place)s, %(name)s, %(wait_minutes)s, %(quiet_from)s, %(quiet_until)s, %(max_per_hour)s,
                    %(signing_secret)s, %(created_by)s)
            RETURNING {SUBSCRIPTION_COLUMNS}, signing_secret""",
        fields,
    )
    created: dict[str, Any] = present(row, "INSERT ... RETURNING of a subscription")
    return created


async def subscriptions(conn: AsyncConnection, *, districts: list[str] | None) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        f"""SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE deleted_at IS NULL AND {IN_DISTRICTS}
            ORDER BY district, created_at""",
        {"districts": districts},
    )


async def subscription(conn: AsyncConnection, *, subscription_id: UUID) -> dict[str, Any] | None:
    return await one_row(
        conn,
        f"SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE subscription_id = %(id)s AND deleted_at IS NULL",
        {"id": subscription_id},
    )


async def delete_subscription(conn: AsyncConnection, *, subscription_id: UUID) -> None:
    """Kept with a deletion time, so its delivery log still makes sense; nothing more is sent."""
    await conn.execute(
        "UPDATE subscriptions SET deleted_at = now() WHERE subscription_id = %(id)s AND deleted_at IS NULL",
        {"id": subscription_id},
    )


async def deliveries(conn: AsyncConnection, *, subscription_id: UUID, limit: int) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        f"""SELECT {DELIVERY_COLUMNS} FROM deliveries d WHERE subscription_id = %(id)s
            ORDER BY created_at DESC, delivery_id DESC LIMIT %(limit)s""",
        {"id": subscription_id, "limit": limit},
    )


async def district_deliveries(
    conn: AsyncConnection, *, districts: list[str] | None, alert_id: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """Deliveries of alerts in these districts (None: all), newest first, with who they went to."""
    return await all_rows(
        conn,
        f"""SELECT {DELIVERY_COLUMNS}, s.subscription_id::text AS subscription_id, s.district, s.name,
                   s.channel AS subscription_channel, s.target
            FROM deliveries d JOIN subscriptions s USING (subscription_id)
            WHERE {in_districts("s.district")}
              AND (%(alert)s::uuid IS NULL OR d.alert_id = %(alert)s::uuid)
            ORDER BY d.created_at DESC, d.delivery_id DESC LIMIT %(limit)s""",
        {"districts": districts, "alert": alert_id, "limit": limit},
    )


async def delivery_attempts(
    conn: AsyncConnection, *, delivery_id: int, districts: list[str] | None
) -> list[dict[str, Any]] | None:
    """Every attempt at one delivery, oldest first; None if the delivery is not there for these districts."""
    found = await one_row(
        conn,
        f"""SELECT 1 AS found FROM deliveries d JOIN subscriptions s USING (subscription_id)
            WHERE d.delivery_id = %(id)s AND {in_districts("s.district")}""",
        {"id": delivery_id, "districts": districts},
    )
    if found is None:
        return None
    return await all_rows(
        conn,
        """SELECT attempted_at, channel, delivered, status, answer FROM delivery_attempts
           WHERE delivery_id = %(id)s ORDER BY attempted_at""",
        {"id": delivery_id},
    )
