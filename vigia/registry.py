"""The sensor registry's writes: one statement for each, whoever registers a sensor.

The registry (the `sensors` table) is shared: the API and the `vigia sensors` command
register and revoke sensors, the simulator registers its district's, and the bridge
reads the active ones to decide what it accepts. Registering a sensor again updates it and
makes it active again.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row


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
    place: str = "",
) -> None:
    conn.execute(
        """INSERT INTO sensors (sensor_id, sensor_type, district, latitude, longitude, tile_id, metrics, place)
           VALUES (%(sensor_id)s, %(sensor_type)s, %(district)s, %(latitude)s, %(longitude)s, %(tile_id)s, %(metrics)s,
                   %(place)s)
           ON CONFLICT (sensor_id) DO UPDATE SET
               sensor_type = EXCLUDED.sensor_type, district = EXCLUDED.district,
               latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,
               tile_id = EXCLUDED.tile_id, metrics = EXCLUDED.metrics, revoked_at = NULL,
               place = CASE WHEN EXCLUDED.place = '' THEN sensors.place ELSE EXCLUDED.place END""",
        {
            "sensor_id": sensor_id,
            "sensor_type": sensor_type,
            "district": district,
            "latitude": latitude,
            "longitude": longitude,
            "tile_id": tile_id,
            "metrics": metrics,
            "place": place,
        },
    )


def revoke_sensor(conn: psycopg.Connection, *, sensor_id: str) -> bool:
    row = conn.execute(
        "UPDATE sensors SET revoked_at = now() WHERE sensor_id = %s AND revoked_at IS NULL RETURNING sensor_id",
        (sensor_id,),
    ).fetchone()
    return row is not None


def list_sensors(conn: psycopg.Connection, *, district: str | None = None) -> list[dict[str, Any]]:
    cur = conn.cursor(row_factory=dict_row)
    cur.execute(
        """SELECT sensor_id, sensor_type, district, latitude, longitude, tile_id, place, metrics, created_at,
                  revoked_at
           FROM sensors WHERE %(district)s::text IS NULL OR district = %(district)s
           ORDER BY district, sensor_id""",
        {"district": district},
    )
    return cur.fetchall()
