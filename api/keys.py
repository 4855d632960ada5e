"""Making, listing and revoking API keys: the operator's side of access (`vigia keys ...`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg

from api.access import Role, new_key
from api.repo import keys as key_rows


def add(
    conn: psycopg.Connection, *, role: Role, district: str | None, name: str, valid_for: timedelta | None = None
) -> tuple[str, str]:
    """(key id, the key, to be shown once). A key `valid_for` a while is refused after it."""
    if (role is Role.LEADER) != (district is not None):
        raise ValueError("a leader's key needs --district, and only a leader's key takes one")
    key_id, secret_hash, key = new_key()
    key_rows.insert_key(
        conn, key_id=key_id, secret_sha256=secret_hash, role=role.value, district=district, name=name,
        valid_for=valid_for,
    )  # fmt: skip
    return key_id, key


def list_keys(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every key, revoked ones included; never the secrets (only their hashes are stored)."""
    return key_rows.list_keys(conn)


def revoke(conn: psycopg.Connection, key_id: str) -> bool:
    """Stop a key working at once; False when it is unknown or already revoked."""
    return key_rows.revoke_key(conn, key_id=key_id)
