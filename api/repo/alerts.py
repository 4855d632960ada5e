"""SQL of alerts: lists and history, acknowledgements and resolutions, the live feed's changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection

from api.repo.rows import IN_DISTRICTS, all_rows, in_districts, one_row


def alert_columns(table: str = "") -> str:
    names = """rule sensor_id metric district tile_id severity state opened_at updated_at resolved_at acknowledged_at
               acknowledged_by note value detail title_es title_en model_version land_use_class housing_score
               window_start window_end"""
    return ", ".join([f"{table}alert_id::text AS alert_id", *(f"{table}{name}" for name in names.split())])


ALERT_COLUMNS = alert_columns()


async def alerts(
    conn: AsyncConnection,
    *,
    districts: list[str] | None,
    district: str | None,
    severities: list[str] | None,
    states: list[str] | None,
    sensor_id: str | None,
    tile_id: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Newest first; `until` pages back (pass the last row's opened_at)."""
    return await all_rows(
        conn,
        f"""SELECT {ALERT_COLUMNS} FROM alerts
            WHERE {IN_DISTRICTS}
              AND (%(district)s::text IS NULL OR district = %(district)s)
              AND (%(severities)s::text[] IS NULL OR severity = ANY(%(severities)s::text[]))
              AND (%(states)s::text[] IS NULL OR state = ANY(%(states)s::text[]))
              AND (%(sensor)s::text IS NULL OR sensor_id = %(sensor)s)
              AND (%(tile)s::text IS NULL OR tile_id = %(tile)s)
              AND (%(since)s::timestamptz IS NULL OR opened_at >= %(since)s)
              AND (%(until)s::timestamptz IS NULL OR opened_at < %(until)s)
            ORDER BY opened_at DESC, alert_id LIMIT %(limit)s""",
        {
            "districts": districts, "district": district, "severities": severities, "states": states,
            "sensor": sensor_id, "tile": tile_id, "since": since, "until": until, "limit": limit,
        },
    )  # fmt: skip


async def alert(conn: AsyncConnection, *, alert_id: UUID) -> dict[str, Any] | None:
    return await one_row(conn, f"SELECT {ALERT_COLUMNS} FROM alerts WHERE alert_id = %(id)s", {"id": alert_id})


async def alert_history(conn: AsyncConnection, *, alert_id: UUID) -> list[dict[str, Any]]:
    return await all_rows(
        conn,
        """SELECT time, change, severity, state, value, detail FROM alert_events
           WHERE alert_id = %(id)s ORDER BY time, recorded_at""",
        {"id": alert_id},
    )


async def change_alert(
    conn: AsyncConnection, *, alert_id: UUID, change: str, by: str, note: str
) -> dict[str, Any] | None:
    """Acknowledge or resolve an alert by hand, with the event the alerts topic is fed from.

    Returns the alert as it now stands, or None if it was not in a state the change applies
    to (acknowledging needs 'open'; resolving anything not yet resolved).
    """
    allowed_from = ["open"] if change == "acknowledged" else ["open", "acknowledged"]
    async with conn.transaction():
        row = await one_row(
            conn,
            f"""UPDATE alerts SET
                    state = %(state)s, note = %(note)s, updated_at = now(),
                    acknowledged_at = CASE WHEN %(state)s = 'acknowledged' THEN now() ELSE acknowledged_at END,
                    acknowledged_by = CASE WHEN %(state)s = 'acknowledged' THEN %(by)s ELSE acknowledged_by END,
                    resolved_at = CASE WHEN %(state)s = 'resolved' THEN now() ELSE resolved_at END
                WHERE alert_id = %(id)s AND state = ANY(%(from)s)
                RETURNING {ALERT_COLUMNS}""",
            {"id": alert_id, "state": change, "note": note, "by": by, "from": allowed_from},
        )
        if row is not None:
            await conn.execute(
                """INSERT INTO alert_events (time, alert_id, change, severity, state, value, detail)
                   VALUES (now(), %(id)s, %(change)s, %(severity)s, %(state)s, %(value)s, %(note)s)""",
                {"id": alert_id, "change": change, "severity": row["severity"], "state": row["state"],
                 "value": row["value"], "note": f"{by}: {note}" if note else by},
            )  # fmt: skip
    return row


async def alert_changes(
    conn: AsyncConnection, *, after: datetime, districts: list[str] | None, limit: int = 500
) -> list[dict[str, Any]]:
    """Alert changes recorded after `after`, oldest first, each with its alert as it now stands."""
    return await all_rows(
        conn,
        f"""SELECT e.recorded_at, e.change, e.time AS changed_at, e.detail AS change_detail,
                   {alert_columns("a.")}
            FROM alert_events e JOIN alerts a USING (alert_id)
            WHERE e.recorded_at > %(after)s AND {in_districts("a.district")}
            ORDER BY e.recorded_at LIMIT %(limit)s""",
        {"after": after, "districts": districts, "limit": limit},
    )
