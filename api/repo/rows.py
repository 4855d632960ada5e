"""How the API's queries fetch rows, and the database's own answers (alive, its clock)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row


class NoRow(RuntimeError):
    """A statement that always answers a row answered none: the database is not the one we migrated."""


def present(row: Any, what: str) -> Any:
    if row is None:
        raise NoRow(f"{what} returned no row")
    return row


async def now(conn: AsyncConnection) -> datetime:
    """The database's clock, the one `recorded_at` is written by."""
    row = present(await (await conn.execute("SELECT now()")).fetchone(), "SELECT now()")
    value: datetime = row[0]
    return value


async def ping(conn: AsyncConnection) -> bool:
    row = await (await conn.execute("SELECT 1")).fetchone()
    return row is not None


async def all_rows(conn: AsyncConnection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(query, params)
    return await cur.fetchall()


async def one_row(conn: AsyncConnection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    rows = await all_rows(conn, query, params)
    return rows[0] if rows else None


def in_districts(column: str = "district") -> str:
    """The filter keeping a leader to their district: `districts` None reads all, a list only those."""
    return f"(%(districts)s::text[] IS NULL OR {column} = ANY(%(districts)s::text[]))"


IN_DISTRICTS = in_districts()
