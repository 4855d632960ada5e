"""SQL of API keys: the lookup every request makes, and the operator's statements (`vigia keys ...`, synchronous)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row


async def api_key(conn: AsyncConnection, *, key_id: str) -> dict[str, Any] | None:
    """An active key's role, district, secret hash and expiry; revoked and expired keys are not found."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(
        "SELECT key_id, secret_sha256, role, district, name, expires_at FROM api_keys WHERE key_id = %(key_id)s"
        " AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())",
        {"key_id": key_id},
    )
    return await cur.fetchone()


def insert_key(
    conn: psycopg.Connection,
    *,
    key_id: str,
    secret_sha256: str,
    role: str,
    district: str | None,
    name: str,
    valid_for: timedelta | None,
) -> None:
    conn.execute(
        "INSERT INTO api_keys (key_id, secret_sha256, role, district, name, expires_at)"
        " VALUES (%(key_id)s, %(secret)s, %(role)s, %(district)s, %(name)s, now() + %(valid_for)s)",
        {"key_id": key_id, "secret": secret_sha256, "role": role, "district": district, "name": name,
         "valid_for": valid_for},
    )  # fmt: skip


def list_keys(conn: psycopg.Connection) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT key_id, role, district, name, created_at, expires_at, revoked_at FROM api_keys ORDER BY created_at"
    ).fetchall()


def revoke_key(conn: psycopg.Connection, *, key_id: str) -> bool:
    cur = conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE key_id = %(key_id)s AND revoked_at IS NULL", {"key_id": key_id}
    )
    return cur.rowcount == 1
