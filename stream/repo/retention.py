"""The stream's retention of readings, windows and alert events: dropping whole chunks."""

from __future__ import annotations

import psycopg

RETAINED = ("readings", "readings_1m", "readings_15m", "alert_events")


async def apply_retention(conn: psycopg.AsyncConnection, keep_days: dict[str, int]) -> int:
    """Drop chunks older than each table's retention; returns how many went.

    With the Timescale-licensed extension a background policy does this (see
    `ensure_retention_policies`); the Apache-licensed build has no policies, so the stream
    worker calls this every hour instead.
    """
    dropped = 0
    for table, days in keep_days.items():
        if table not in RETAINED:
            raise ValueError(f"no retention for {table!r}; tables with one: {', '.join(RETAINED)}")
        cur = await conn.execute(
            "SELECT count(*) FROM drop_chunks(%s::regclass, older_than => now() - make_interval(days => %s))",
            (table, days),
        )
        row = await cur.fetchone()
        dropped += int(row[0]) if row else 0
    return dropped


async def retention_policies_available(conn: psycopg.AsyncConnection) -> bool:
    cur = await conn.execute("SELECT current_setting('timescaledb.license', true)")
    row = await cur.fetchone()
    return bool(row and row[0] == "timescale")


async def ensure_retention_policies(conn: psycopg.AsyncConnection, keep_days: dict[str, int]) -> None:
    for table, days in keep_days.items():
        await conn.execute(
            "SELECT add_retention_policy(%s::regclass, make_interval(days => %s), if_not_exists => true)", (table, days)
        )
