"""SQL of the bridge: the active sensors it accepts readings from (`vigia.registry` writes them)."""

from __future__ import annotations

from typing import Any

import psycopg

from ingest.calibration import Calibration
from ingest.payload import SensorInfo
from vigia.contracts import Metric

KNOWN_METRICS = frozenset(m.value for m in Metric)


SENSOR_COLUMNS = "sensor_id, district, tile_id, metrics, sensor_type"


# The newest calibration of each sensor and metric.
CALIBRATIONS = """SELECT DISTINCT ON (sensor_id, metric) sensor_id, metric, version, gain, offset_value
                  FROM sensor_calibrations WHERE {where} ORDER BY sensor_id, metric, version DESC"""


def _sensor_info(row: tuple[Any, ...], calibrations: dict[Metric, Calibration]) -> SensorInfo:
    sensor_id, district, tile_id, metrics, sensor_type = row
    return SensorInfo(
        sensor_id=sensor_id,
        district=district,
        tile_id=tile_id,
        metrics=frozenset(Metric(m) for m in metrics if m in KNOWN_METRICS),
        sensor_type=sensor_type,
        calibrations=calibrations,
    )


def _calibrations(rows: list[tuple[Any, ...]]) -> dict[str, dict[Metric, Calibration]]:
    found: dict[str, dict[Metric, Calibration]] = {}
    for sensor_id, metric, version, gain, offset in rows:
        if metric in KNOWN_METRICS:
            found.setdefault(sensor_id, {})[Metric(metric)] = Calibration(version, gain, offset)
    return found


def load_active_sensors(conn: psycopg.Connection) -> dict[str, SensorInfo]:
    rows = conn.execute(f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE revoked_at IS NULL").fetchall()  # noqa: S608
    calibrations = _calibrations(conn.execute(CALIBRATIONS.format(where="true")).fetchall())
    return {row[0]: _sensor_info(row, calibrations.get(row[0], {})) for row in rows}


def active_sensor(conn: psycopg.Connection, *, sensor_id: str) -> SensorInfo | None:
    row = conn.execute(
        f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE sensor_id = %s AND revoked_at IS NULL",  # noqa: S608
        (sensor_id,),
    ).fetchone()
    if row is None:
        return None
    found = conn.execute(CALIBRATIONS.format(where="sensor_id = %s"), (sensor_id,)).fetchall()
    return _sensor_info(row, _calibrations(found).get(sensor_id, {}))
