"""The bridge's reads of the registry against the real database: only what changed since the last read."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from ingest.calibration import Calibration
from ingest.repo import RegistryReader, changed_sensors
from vigia.contracts import Metric
from vigia.registry import revoke_sensor, upsert_sensor
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def register(conn: psycopg.Connection, sensor_id: str) -> None:
    # A tile and district of their own: the stack is shared with the other tests, which count both.
    upsert_sensor(conn, sensor_id=sensor_id, sensor_type="water", district="it-registry", latitude=-12.0,
                  longitude=-77.0, tile_id="17/3/7", metrics=["water_pressure"])  # fmt: skip


def now(conn: psycopg.Connection) -> datetime:
    row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    at: datetime = row[0]
    return at


def test_the_bridge_reads_the_sensors_registered_changed_and_revoked_since_it_last_looked(stack: Settings) -> None:
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        register(conn, "it-reg-a")
        register(conn, "it-reg-b")
        reader = RegistryReader(lambda: conn)
        assert {"it-reg-a", "it-reg-b"} <= reader.everything().keys()
        before = now(conn)
        register(conn, "it-reg-c")
        assert revoke_sensor(conn, sensor_id="it-reg-b")
        conn.execute(
            """INSERT INTO sensor_calibrations (sensor_id, metric, version, gain, offset_value)
               VALUES ('it-reg-a', 'water_pressure', 1, 2.0, 0.5)"""
        )
        after = now(conn)
        active, revoked = changed_sensors(conn, since=before)
        nothing = changed_sensors(conn, since=after + timedelta(seconds=1))
        read_again = reader.changes()

    assert sorted(s for s in active if s.startswith("it-reg-")) == ["it-reg-a", "it-reg-c"]
    assert active["it-reg-a"].calibrations == {Metric.WATER_PRESSURE: Calibration(1, 2.0, 0.5)}
    assert {s for s in revoked if s.startswith("it-reg-")} == {"it-reg-b"}
    assert nothing == ({}, set())
    assert {"it-reg-a", "it-reg-c"} <= read_again[0].keys()
    assert "it-reg-b" in read_again[1]
