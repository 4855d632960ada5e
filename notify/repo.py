"""SQL of the notifier: who is subscribed, the deliveries owed, claimed and their outcomes.

Deliveries are rows written before the alerts topic's offsets are committed; sending
claims them with a lease (`SKIP LOCKED`), so several notifiers can run.
"""

from __future__ import annotations

import secrets
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
        """SELECT subscription_id::text AS subscription_id, district, min_severity, channel, target, language, place,
                  wait_minutes
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
            """INSERT INTO deliveries (subscription_id, alert_id, change, event_time, message, payload, next_attempt_at)
               VALUES (%(subscription_id)s, %(alert_id)s, %(change)s, %(event_time)s, %(message)s, %(payload)s,
                       %(due_at)s)
               ON CONFLICT (subscription_id, alert_id, change, event_time) DO NOTHING""",
            rows,
        )
        return cur.rowcount


async def claim_due(conn: AsyncConnection, *, limit: int, lease: timedelta) -> list[dict[str, Any]]:
    """Due deliveries, leased for `lease` so another notifier leaves them alone while this one sends;
    each with what deciding whether it still goes needs (see `delivery.decide`)."""
    return await _all(
        conn,
        """UPDATE deliveries d SET next_attempt_at = now() + %(lease)s
           FROM subscriptions s
           WHERE d.subscription_id = s.subscription_id AND d.delivery_id IN (
               SELECT delivery_id FROM deliveries
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
           RETURNING d.delivery_id, d.subscription_id, d.attempts, d.change, d.message, d.payload, s.channel, s.target,
                     s.signing_secret, s.deleted_at, s.wait_minutes, s.quiet_from, s.quiet_until, s.max_per_hour,
                     coalesce(d.payload #>> '{alert,severity}', 'info') AS severity,
                     coalesce((SELECT a.state FROM alerts a WHERE a.alert_id = d.alert_id), 'open') AS alert_state,
                     EXISTS (SELECT 1 FROM deliveries o
                             WHERE o.subscription_id = d.subscription_id AND o.alert_id = d.alert_id
                               AND o.change = 'opened' AND o.status IN ('delivered', 'digested')) AS told_of_opening,
                     (SELECT count(*) FROM deliveries r
                      WHERE r.subscription_id = d.subscription_id AND r.status = 'delivered'
                        AND r.delivered_at > now() - interval '1 hour')::int AS sent_last_hour,
                     EXISTS (SELECT 1 FROM deliveries n
                             WHERE n.subscription_id = d.subscription_id AND n.alert_id = d.alert_id
                               AND n.event_time > d.event_time AND n.change <> 'digest') AS superseded""",
        {"limit": limit, "lease": lease},
    )


async def record_outcome(
    conn: AsyncConnection,
    *,
    delivery_id: int,
    channel: str | None,
    delivered: bool,
    status: int | None,
    error: str | None,
    answer: str | None,
    retry_in: timedelta | None,
) -> None:
    """After an attempt: delivered, due again in `retry_in`, or failed for good when that is None."""
    await conn.execute(
        """UPDATE deliveries SET attempts = attempts + 1, last_status = %(status)s, last_error = %(error)s,
                  channel = %(channel)s, answer = coalesce(%(answer)s, answer),
                  status = CASE WHEN %(delivered)s THEN 'delivered'
                                WHEN %(retry_in)s::interval IS NULL THEN 'failed' ELSE 'pending' END,
                  delivered_at = CASE WHEN %(delivered)s THEN now() END,
                  next_attempt_at = now() + coalesce(%(retry_in)s::interval, interval '0')
           WHERE delivery_id = %(id)s""",
        {"id": delivery_id, "channel": channel, "delivered": delivered, "status": status, "error": error,
         "answer": answer, "retry_in": retry_in},
    )  # fmt: skip
    await conn.execute(
        """INSERT INTO delivery_attempts (delivery_id, channel, delivered, status, answer)
           VALUES (%(id)s, %(channel)s, %(delivered)s, %(status)s, %(answer)s)
           ON CONFLICT DO NOTHING""",
        {"id": delivery_id, "channel": channel or "?", "delivered": delivered, "status": status,
         "answer": (answer or error or "")[:500]},
    )  # fmt: skip


async def set_aside(conn: AsyncConnection, *, delivery_id: int, status: str, why: str | None = None,
                    until: datetime | None = None) -> None:  # fmt: skip
    """A delivery not sent now: skipped for good, held for a digest, or (status 'pending') due again `until`."""
    await conn.execute(
        """UPDATE deliveries SET status = %(status)s, last_error = coalesce(%(why)s, last_error),
                  next_attempt_at = coalesce(%(until)s, next_attempt_at)
           WHERE delivery_id = %(id)s""",
        {"id": delivery_id, "status": status, "why": why, "until": until},
    )


async def held(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Deliveries held past a subscriber's hourly limit, with whether the subscriber has room again."""
    return await _all(
        conn,
        """SELECT d.delivery_id, d.subscription_id::text AS subscription_id, d.alert_id::text AS alert_id,
                  d.payload -> 'alert' AS alert, s.language, s.channel,
                  (SELECT count(*) FROM deliveries r
                   WHERE r.subscription_id = d.subscription_id AND r.status = 'delivered'
                     AND r.delivered_at > now() - interval '1 hour')::int < s.max_per_hour AS has_room
           FROM deliveries d JOIN subscriptions s USING (subscription_id)
           WHERE d.status = 'held' ORDER BY d.delivery_id""",
        {},
    )


async def queue_digest(
    conn: AsyncConnection, *, subscription_id: str, delivery_ids: list[int], alert_id: str, message: str,
    payload: str,
) -> int | None:  # fmt: skip
    """One digest delivery in place of the held ones, in one transaction; None if another notifier did it."""
    async with conn.transaction():
        cur = await conn.execute(
            """INSERT INTO deliveries (subscription_id, alert_id, change, event_time, message, payload)
               VALUES (%(sub)s, %(alert)s, 'digest', now(), %(message)s, %(payload)s)
               ON CONFLICT DO NOTHING RETURNING delivery_id""",
            {"sub": subscription_id, "alert": alert_id, "message": message, "payload": payload},
        )
        row = await cur.fetchone()
        if row is None:
            return None
        moved = await conn.execute(
            """UPDATE deliveries SET status = 'digested', digest_id = %(digest)s
               WHERE delivery_id = ANY(%(ids)s) AND status = 'held'""",
            {"digest": row[0], "ids": delivery_ids},
        )
        if moved.rowcount != len(delivery_ids):
            raise RetryDigest("held deliveries changed while the digest was written")
        return int(row[0])


class RetryDigest(RuntimeError):
    """Another notifier took some of the held deliveries; the transaction is rolled back."""


async def alert_facts(conn: AsyncConnection, *, alert_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Per alert: where it is as people name it (its sensor's place, else its block's, as for a change seen from
    the air, which has no sensor) and who acknowledged it."""
    rows = await _all(
        conn,
        """SELECT a.alert_id::text AS alert_id, coalesce(nullif(s.place, ''), b.place, '') AS place,
                  coalesce(a.acknowledged_by, '') AS acknowledged_by
           FROM alerts a LEFT JOIN sensors s USING (sensor_id)
           LEFT JOIN tile_place_names b ON b.tile_id = a.tile_id
           WHERE a.alert_id = ANY(%(ids)s::uuid[])""",
        {"ids": alert_ids},
    )
    return {row["alert_id"]: (row["place"], row["acknowledged_by"]) for row in rows}


async def reply_codes(conn: AsyncConnection, *, live: list[tuple[str, str]], ended: list[str]) -> dict[str, str]:
    """The reply code of each alert: assigned to live ones (alert id, district) that have none, released
    for ended ones. A code is unique among live alerts; 4 digits while they last, then 5."""
    ids = [alert_id for alert_id, _ in live] + ended
    rows = await _all(
        conn, "SELECT alert_id::text AS alert_id, code FROM alert_codes WHERE alert_id = ANY(%(ids)s::uuid[])",
        {"ids": ids},
    )  # fmt: skip
    codes = {row["alert_id"]: row["code"] for row in rows}
    for alert_id, district in live:
        tries = 0
        while alert_id not in codes:
            digits = 4 if tries < 20 else 5
            code = str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))
            cur = await conn.execute(
                """INSERT INTO alert_codes (alert_id, district, code) VALUES (%(id)s, %(district)s, %(code)s)
                   ON CONFLICT DO NOTHING RETURNING code""",
                {"id": alert_id, "district": district, "code": code},
            )
            if await cur.fetchone() is not None:
                codes[alert_id] = code
            else:  # the code is taken, or another notifier just gave this alert one
                taken = await _all(
                    conn, "SELECT code FROM alert_codes WHERE alert_id = %(id)s", {"id": alert_id}
                )  # fmt: skip
                if taken:
                    codes[alert_id] = taken[0]["code"]
            tries += 1
    if ended:
        await conn.execute(
            "UPDATE alert_codes SET released_at = now() WHERE alert_id = ANY(%(ids)s::uuid[]) AND released_at IS NULL",
            {"ids": ended},
        )
    return codes


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
