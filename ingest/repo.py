"""SQL for the sensor registry."""

from __future__ import annotations

import psycopg

from vigia.contracts import Metric
from vigia.ingest.payload import SensorInfo

KNOWN_METRICS = frozenset(m.value for m in Metric)


def load_active_sensors(conn: psycopg.Connection) -> dict[str, SensorInfo]:
    rows = conn.execute(
        "SELECT sensor_id, district, tile_id, metrics, sensor_type FROM sensors WHERE revoked_at IS NULL"
    ).fetchall()
    return {
        sensor_id: SensorInfo(
            sensor_id=sensor_id,
            district=district,
            tile_id=tile_id,
            metrics=frozenset(Metric(m) for m in metrics if m in KNOWN_METRICS),
            sensor_type=sensor_type,
        )
        for sensor_id, district, tile_id, metrics, sensor_type in rows
    }


def upsert_sensor(
    conn: psycopg.Connection,
    *,
    sensor_id: str,
    sensor_type: str,
    district: str,
    latitude: float,
    longitude: float,
    tile_id: str,
    metrics: list[str],
) -> None:
    conn.execute(
        """INSERT INTO sensors (sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics)
           VALUES (%(sensor_id)s, %(sensor_type)s, %(district)s, %(latitude)s, %(longitude)s, %(tile_id)s, %(metrics)s)
           ON CONFLICT (sensor_id) DO UPDATE SET
               sensor_type = EXCLUDED.sensor_type, district = EXCLUDED.district,
               latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
               tile_id = EXCLUDED.tile_id, metrics = EXCLUDED.metrics, revoked_at = NULL""",
        {
            "sensor_id": sensor_id,
            "sensor_type": sensor_type,
            "district": district,
            "latitude": latitude,
            "longitude": longitude,
            "tile_id": tile_id,
            "metrics": metrics,
        },
    )
