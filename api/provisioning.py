"""Registering sensors: a registry row, MQTT credentials, and leave to publish to its own topic only.

The registry (TimescaleDB) says what a sensor is; the broker's accounts say what it may
do. Both change in one step: the registry's transaction commits only once the broker
took the change, so a broker that could not be told leaves the registry as it was.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import psycopg

from vigia import registry
from vigia.accounts import BrokerAccounts
from vigia.contracts import DISTRICT_PATTERN, SENSOR_ID_PATTERN, SENSOR_METRICS, Metric
from vigia.settings import Settings
from vigia.tiles import tile_id_for
from vigia.topics import telemetry_topic

SENSOR_ID = re.compile(SENSOR_ID_PATTERN)
DISTRICT = re.compile(DISTRICT_PATTERN)


class ProvisioningError(ValueError):
    pass


@dataclass(frozen=True)
class Provisioned:
    sensor_id: str
    district: str
    tile_id: str
    topic: str
    password: str


def validate(sensor_id: str, sensor_type: str, district: str, latitude: float, longitude: float) -> None:
    if not SENSOR_ID.match(sensor_id):
        raise ProvisioningError(f"sensor id {sensor_id!r}: letters, digits, '.', '_' or '-', at most 64")
    if not DISTRICT.match(district):
        raise ProvisioningError(f"district {district!r}: lower-case letters, digits, '_' or '-', at most 64")
    if sensor_type not in SENSOR_METRICS:
        raise ProvisioningError(f"sensor type {sensor_type!r}: one of {', '.join(SENSOR_METRICS)}")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ProvisioningError(f"position ({latitude}, {longitude}) is not on Earth")


def add(
    settings: Settings,
    accounts: BrokerAccounts,
    *,
    sensor_id: str,
    sensor_type: str,
    district: str,
    latitude: float,
    longitude: float,
    metrics: list[Metric] | None = None,
    place: str = "",
) -> Provisioned:
    """Register a sensor (or re-issue credentials for an existing one) and let it publish."""
    validate(sensor_id, sensor_type, district, latitude, longitude)
    chosen = list(metrics) if metrics else list(SENSOR_METRICS[sensor_type])
    tile = tile_id_for(latitude, longitude, settings.tile_zoom)
    password = secrets.token_urlsafe(24)
    topic = telemetry_topic(district, sensor_id)
    with psycopg.connect(settings.db_conninfo) as conn:
        registry.upsert_sensor(
            conn,
            sensor_id=sensor_id,
            sensor_type=sensor_type,
            district=district,
            latitude=latitude,
            longitude=longitude,
            tile_id=tile,
            metrics=[m.value for m in chosen],
            place=place.strip(),
        )
        accounts.grant(sensor_id=sensor_id, password=password, topic=topic)
    return Provisioned(sensor_id, district, tile, topic, password)


def revoke(settings: Settings, accounts: BrokerAccounts, sensor_id: str) -> bool:
    """Stop a sensor: it can no longer connect, and its readings are refused. False if unknown."""
    with psycopg.connect(settings.db_conninfo) as conn:
        if not registry.revoke_sensor(conn, sensor_id=sensor_id):
            return False
        accounts.revoke(sensor_id=sensor_id)
    return True
