"""SQL of subscriptions and their delivery log, as the API manages them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from api.repo.rows import IN_DISTRICTS, all_rows, one_row, present

SUBSCRIPTION_COLUMNS = """subscription_id::text AS subscription_id, district, min_severity, channel, target, language,
                          place, created_by, created_at"""


async def create_subscription(conn: AsyncConnection, **fields: Any) -> dict[str, Any]:
    """A new subscription; `fields` are its columns. The signing secret is returned with it, this once."""
    row = await one_row(
        conn,
        f"""INSERT INTO subscriptions (subscription_id, district, min_severity, channel, target, language, place,
                                       signing_secret, created_by)
            VALUES (gen_random_uuid(), %(district)s, %(min_severity)s, %(channel)s, %(target)s, %(language)s,
                    %(place)s, %(signing_secret)s, %(created_by)s)
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
        """SELECT delivery_id, alert_id::text AS alert_id, change, event_time, message, status, attempts,
                  next_attempt_at, last_status, last_error, created_at, delivered_at
           FROM deliveries WHERE subscription_id = %(id)s ORDER BY created_at DESC, delivery_id DESC
           LIMIT %(limit)s""",
        {"id": subscription_id, "limit": limit},
    )
