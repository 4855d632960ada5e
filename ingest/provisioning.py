"""Provisioning sensors: a registry row, MQTT credentials, and an ACL for its own topic only.

The registry (TimescaleDB) says what a sensor is; Mosquitto's files say what it may do.
Every change rewrites the sensor ACL from the registry, so the two cannot drift apart,
and signals Mosquitto to reload.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import psycopg

from ingest import repo
from ingest.metrics import DEFAULT_METRICS
from ingest.payload import TOPIC_PATTERN
from ops import control
from ops.mosquitto import MosquittoAccounts
from vigia.contracts import Metric
from vigia.settings import Settings
from vigia.tiles import tile_id_for

SENSOR_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DISTRICT = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ProvisioningError(ValueError):
    pass


@dataclass(frozen=True)
class Provisioned:
    sensor_id: str
    district: str
    tile_id: str
    topic: str
    password: str


def telemetry_topic(district: str, sensor_id: str) -> str:
    return f"vigia/{district}/{sensor_id}/telemetry"


def sensor_acl(sensors: list[tuple[str, str]]) -> str:
    """ACL lines letting each (sensor_id, district) publish under its own topic and nowhere else."""
    blocks = [
        f"user {sensor_id}\ntopic write {telemetry_topic(district, sensor_id)}\n" for sensor_id, district in sensors
    ]
    return "# Sensors: each may publish only its own telemetry.\n" + "\n".join(blocks)


def validate(sensor_id: str, sensor_type: str, district: str, latitude: float, longitude: float) -> None:
    if not SENSOR_ID.match(sensor_id):
        raise ProvisioningError(f"sensor id {sensor_id!r}: letters, digits, '.', '_' or '-', at most 64")
    if not DISTRICT.match(district):
        raise ProvisioningError(f"district {district!r}: lower-case letters, digits, '_' or '-'")
    if sensor_type not in DEFAULT_METRICS:
        raise ProvisioningError(f"sensor type {sensor_type!r}: one of {', '.join(DEFAULT_METRICS)}")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ProvisioningError(f"position ({latitude}, {longitude}) is not on Earth")
    if not TOPIC_PATTERN.match(telemetry_topic(district, sensor_id)):
        raise ProvisioningError("sensor id and district do not form a valid topic")


def _sync_broker(settings: Settings, conn: psycopg.Connection) -> None:
    MosquittoAccounts(settings).write_acl(sensor_acl(repo.active_sensor_districts(conn)))
    control.send_signal(settings, "mosquitto", "HUP")


def add(
    settings: Settings,
    *,
    sensor_id: str,
    sensor_type: str,
    district: str,
    latitude: float,
    longitude: float,
    metrics: list[Metric] | None = None,
) -> Provisioned:
    """Register a sensor (or re-issue credentials for an existing one) and let it publish."""
    validate(sensor_id, sensor_type, district, latitude, longitude)
    chosen = list(metrics) if metrics else list(DEFAULT_METRICS[sensor_type])
    tile = tile_id_for(latitude, longitude, settings.tile_zoom)
    password = secrets.token_urlsafe(24)
    with psycopg.connect(settings.db_conninfo) as conn:
        repo.upsert_sensor(
            conn,
            sensor_id=sensor_id,
            sensor_type=sensor_type,
            district=district,
            latitude=latitude,
            longitude=longitude,
            tile_id=tile,
            metrics=[m.value for m in chosen],
        )
        MosquittoAccounts(settings).set_password(sensor_id, password)
        _sync_broker(settings, conn)
    return Provisioned(sensor_id, district, tile, telemetry_topic(district, sensor_id), password)


def revoke(settings: Settings, sensor_id: str) -> bool:
    """Stop a sensor: it can no longer connect, and its readings are refused. False if unknown."""
    with psycopg.connect(settings.db_conninfo) as conn:
        if not repo.revoke_sensor(conn, sensor_id=sensor_id):
            return False
        accounts = MosquittoAccounts(settings)
        if accounts.passwd.exists() and f"{sensor_id}:" in accounts.passwd.read_text():
            accounts.remove_user(sensor_id)
        _sync_broker(settings, conn)
    return True
