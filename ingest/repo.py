"""SQL of the bridge: the active sensors it accepts readings from (`vigia.registry` writes them)."""

from __future__ import annotations

from typing import Any

import psycopg

from ingest.payload import SensorInfo
from vigia.contracts import Metric

KNOWN_METRICS = frozenset(m.value for m in Metric)


SENSOR_COLUMNS = "sensor_id, district, tile_id, metrics, sensor_type"


def _sensor_info(row: tuple[Any, ...]) -> SensorInfo:
    sensor_id, district, tile_id, metrics, sensor_type = row
    return SensorInfo(
        sensor_id=sensor_id,
        district=district,
        tile_id=tile_id,
        metrics=frozenset(Metric(m) for m in metrics if m in KNOWN_METRICS),
        sensor_type=sensor_type,
    )


def load_active_sensors(conn: psycopg.Connection) -> dict[str, SensorInfo]:
    rows = conn.execute(f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE revoked_at IS NULL").fetchall()  # noqa: S608
    return {row[0]: _sensor_info(row) for row in rows}


def active_sensor(conn: psycopg.Connection, *, sensor_id: str) -> SensorInfo | None:
    row = conn.execute(
        f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE sensor_id = %s AND revoked_at IS NULL",  # noqa: S608
        (sensor_id,),
    ).fetchone()
    return _sensor_info(row) if row else None
