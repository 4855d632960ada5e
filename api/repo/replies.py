"""SQL of replies from phones: who wrote, which alert their code names, and the log of replies."""

from __future__ import annotations

from typing import Any

import orjson
from psycopg import AsyncConnection

from api.repo.rows import all_rows, one_row

RECEIPT_RANK = {"accepted": 1, "buffered": 2, "rejected": 3, "failed": 3, "delivered": 4}
_RANKS = orjson.dumps(RECEIPT_RANK).decode()


async def subscribed(conn: AsyncConnection, *, channel: str, target: str) -> list[dict[str, Any]]:
    """The live subscriptions of this number (or chat) on this channel: the districts it may answer for."""
    return await all_rows(
        conn,
        """SELECT subscription_id, district, language, name FROM subscriptions
           WHERE deleted_at IS NULL AND channel = %(channel)s AND target = %(target)s ORDER BY created_at""",
        {"channel": channel, "target": target},
    )


async def alert_by_code(conn: AsyncConnection, *, code: str, districts: list[str]) -> dict[str, Any] | None:
    """The alert a code names in these districts: the live one, else the last that held the code."""
    return await one_row(
        conn,
        """SELECT c.alert_id, a.state, a.district, a.title_es, a.title_en
           FROM alert_codes c JOIN alerts a USING (alert_id)
           WHERE c.code = %(code)s AND c.district = ANY(%(districts)s::text[])
           ORDER BY c.released_at IS NULL DESC, c.assigned_at DESC LIMIT 1""",
        {"code": code, "districts": districts},
    )


async def record_reply(conn: AsyncConnection, **fields: Any) -> None:
    await conn.execute(
        """INSERT INTO replies (channel, sender, body, subscription_id, alert_id, outcome, answer)
           VALUES (%(channel)s, %(sender)s, %(body)s, %(subscription_id)s, %(alert_id)s, %(outcome)s, %(answer)s)""",
        fields,
    )


async def record_receipt(conn: AsyncConnection, *, delivery_id: int, receipt: str, answer: str) -> bool:
    """A delivery receipt from the network; one arriving after a more final one is kept out. The network's
    words are kept when it says the message did not arrive."""
    cur = await conn.execute(
        """UPDATE deliveries SET receipt = %(receipt)s, receipt_at = now(),
                  last_error = CASE WHEN %(receipt)s IN ('failed', 'rejected') AND %(answer)s <> ''
                                    THEN 'network: ' || %(answer)s ELSE last_error END
           WHERE delivery_id = %(id)s
             AND coalesce((%(ranks)s::jsonb ->> receipt)::int, 0) <= (%(ranks)s::jsonb ->> %(receipt)s)::int""",
        {"id": delivery_id, "receipt": receipt, "answer": answer[:500], "ranks": _RANKS},
    )
    return cur.rowcount > 0
