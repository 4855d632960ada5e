from __future__ import annotations

from vigia.db.migrate import discover


def test_migrations_are_numbered_in_order_and_create_hypertables() -> None:
    migrations = discover()
    versions = [m.version for m in migrations]
    assert versions == sorted(versions) == list(range(1, len(versions) + 1))
    initial = migrations[0].sql
    assert "create_hypertable('readings'" in initial
    assert "create_hypertable('readings_1m'" in initial
