"""Making, listing and revoking API keys: the operator's side of access (`vigia keys ...`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from api.access import Role, new_key


def add(
    conn: psycopg.Connection, *, role: Role, district: str | None, name: str, valid_for: timedelta | None = None
) -> tuple[str, str]:
    """(key id, the key, to be shown once). A key `valid_for` a while is refused after it."""
    if (role is Role.LEADER) != (district is not None):
        raise ValueError("a leader's key needs --district, and only a leader's key takes one")
    key_id, secret_hash, key = new_key()
    conn.execute(
        "INSERT INTO api_keys (key_id, secret_sha256, role, district, name, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, now() + %s)",
        (key_id, secret_hash, role.value, district, name, valid_for),
    )
    return key_id, key


def list_keys(conn: psycopg.Connection) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        "SELECT key_id, role, district, name, created_at, expires_at, revoked_at FROM api_keys ORDER BY created_at"
    ).fetchall()


def revoke(conn: psycopg.Connection, key_id: str) -> bool:
    cur = conn.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = %s AND revoked_at IS NULL", (key_id,))
    return cur.rowcount == 1
