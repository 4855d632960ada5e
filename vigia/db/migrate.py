"""Applies the numbered SQL files in `migrations/` once each, in order.

A plain runner rather than a migration framework: the schema is SQL that TimescaleDB
functions shape (hypertables, policies), which ORMs' autogenerators do not understand, and
the rule is simple: a file applied is recorded and never edited; changes come as new files.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg

MIGRATIONS_PACKAGE = "vigia.db.migrations"
LOCK_KEY = 7_130_001  # pg_advisory_lock key: two processes never migrate at once


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def discover() -> list[Migration]:
    found: list[Migration] = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        if not entry.name.endswith(".sql"):
            continue
        prefix, _, rest = entry.name.partition("_")
        if not prefix.isdigit():
            raise MigrationError(f"migration file {entry.name!r} must start with a number")
        found.append(Migration(int(prefix), rest.removesuffix(".sql"), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a number: {versions}")
    return found


def apply_migrations(conn: psycopg.Connection) -> list[Migration]:
    """Apply what is pending; returns what was applied. Refuses if an applied file changed."""
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version integer PRIMARY KEY,
                   name text NOT NULL,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied: dict[int, str] = dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())
        done: list[Migration] = []
        for migration in discover():
            if migration.version in applied:
                if applied[migration.version] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version} ({migration.name}) changed after it was applied"
                    )
                continue
            with conn.transaction():
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
            done.append(migration)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
