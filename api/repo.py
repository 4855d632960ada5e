"""All SQL the API runs, as functions with keyword-only arguments."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row


async def ping(conn: AsyncConnection) -> bool:
    row = await (await conn.execute("SELECT 1")).fetchone()
    return row is not None


async def sensor(conn: AsyncConnection, *, sensor_id: str) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics, revoked_at
           FROM sensors WHERE sensor_id = %(sensor_id)s""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchone()


async def latest_readings(conn: AsyncConnection, *, sensor_id: str) -> list[dict[str, Any]]:
    """The newest reading of each metric; the natural-key index makes this an index walk."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT DISTINCT ON (metric) metric, value, unit, time, received_at, reading_id::text AS reading_id
           FROM readings WHERE sensor_id = %(sensor_id)s
           ORDER BY metric, time DESC""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchall()


async def latest_windows(conn: AsyncConnection, *, sensor_id: str) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        """SELECT DISTINCT ON (metric) metric, bucket, count, min, max, mean, last,
                  embedding_id, model_version, land_use_class, housing_score
           FROM readings_1m WHERE sensor_id = %(sensor_id)s
           ORDER BY metric, bucket DESC""",
        {"sensor_id": sensor_id},
    )
    return await cur.fetchall()


async def api_key(conn: AsyncConnection, *, key_id: str) -> dict[str, Any] | None:
    """An active key's role, district and secret hash; revoked keys are not found."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT key_id, secret_sha256, role, district, name FROM api_keys WHERE key_id = %(key_id)s"
        " AND revoked_at IS NULL",
        {"key_id": key_id},
    )
    return await cur.fetchone()
