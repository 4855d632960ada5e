"""Numbered readings over MQTT, and counting what of them TimescaleDB holds.

Reading n comes from sensor n % SENSORS with event time t0 + n milliseconds, so a count of
distinct (sensor, metric, time) rows says exactly which readings arrived, and how often.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from inference import embeddings
from vigia import registry
from vigia.contracts import TileEmbedding
from vigia.settings import Settings

DISTRICT = "drill"
SENSORS = 20
TILE = "17/37500/69950"  # every drill sensor's tile
MODEL = "drill"  # the model version of the tile's assessment
REGISTRY_REFRESH_SECONDS = 2.0  # the drills' VIGIA_REGISTRY_REFRESH_SECONDS
PACE_S = 0.01  # readings due within this are published at once
Values = Callable[[int], dict[str, float]]


def steady_water(n: int) -> dict[str, float]:
    return {"water_pressure": 1.0}


@dataclass
class Feed:
    """Publishes reading n at start + n / rate, QoS 1 on one persistent session."""

    settings: Settings
    prefix: str
    rate: float
    seconds: float
    values: Values = steady_water
    t0: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    sent: int = 0
    done: threading.Event = field(default_factory=threading.Event)

    def sensor(self, n: int) -> str:
        return f"{self.prefix}-{n % SENSORS:02d}"

    def run(self) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"drill-{self.prefix}", clean_session=False)
        client.username_pw_set(
            self.settings.mqtt_simulator_username, self.settings.mqtt_simulator_password.get_secret_value()
        )
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)  # keep everything while the broker is away; paho sends it on reconnect
        client.reconnect_delay_set(1, 4)
        client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=10)
        client.loop_start()
        last: mqtt.MQTTMessageInfo | None = None
        start = time.monotonic()
        try:
            for n in range(int(self.rate * self.seconds)):
                delay = start + n / self.rate - time.monotonic()
                if delay > PACE_S:  # publish in small bursts: a wake-up per reading costs more than paho
                    time.sleep(delay)
                at = self.t0 + timedelta(milliseconds=n)
                body = json.dumps({"ts": at.isoformat(), **self.values(n)}).encode()
                last = client.publish(f"vigia/{DISTRICT}/{self.sensor(n)}/telemetry", body, qos=1)
                self.sent = n + 1
            deadline = time.monotonic() + 120
            while last is not None and not last.is_published() and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            client.disconnect()
            client.loop_stop()
            self.done.set()


@dataclass(frozen=True)
class Stored:
    """What TimescaleDB holds of a scenario's readings."""

    rows: int
    distinct: int  # readings, each counted once
    windowed: int  # readings counted into one-minute windows

    def lost(self, sent: int) -> int:
        return sent - self.distinct

    @property
    def duplicated(self) -> int:
        """Rows stored twice, and readings counted twice into the windows."""
        return (self.rows - self.distinct) + max(0, self.windowed - self.distinct)


def stored(settings: Settings, prefix: str) -> Stored:
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor_id, metric, time)) FROM readings WHERE sensor_id LIKE %s",
            (f"{prefix}-%",),
        ).fetchone() or (0, 0)
        windowed = conn.execute(
            "SELECT coalesce(sum(count), 0) FROM readings_1m WHERE sensor_id LIKE %s", (f"{prefix}-%",)
        ).fetchone()
    return Stored(int(rows), int(distinct), int(windowed[0] if windowed else 0))


def register(settings: Settings, prefix: str, *, sensor_type: str = "water", metric: str = "water_pressure") -> None:
    with psycopg.connect(settings.db_conninfo) as conn:
        for i in range(SENSORS):
            registry.upsert_sensor(
                conn, sensor_id=f"{prefix}-{i:02d}", sensor_type=sensor_type, district=DISTRICT,
                latitude=-12.0 - i / 1000, longitude=-77.0, tile_id=TILE, metrics=[metric],
            )  # fmt: skip
    time.sleep(REGISTRY_REFRESH_SECONDS * 2)  # the bridge reloads its registry


def assess_tile(settings: Settings) -> None:
    """An assessment of the drill sensors' tile: a restarted stream worker must recover it to join windows."""
    embedding = TileEmbedding(
        tile_id=TILE, model_version=MODEL, computed_at=datetime.now(UTC), land_use_class="mobilehomepark",
        housing_score=0.8, embedding=[0.5] * 8, precarious_share=0.7,
    )  # fmt: skip
    asyncio.run(embeddings.publish(settings, [embedding]))


def unjoined(settings: Settings, prefix: str, after: datetime) -> tuple[int, int]:
    """(windows lacking the tile's assessment, windows) of the scenario's sensors that end after `after`."""
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE model_version IS DISTINCT FROM %s), count(*) FROM readings_1m"
            " WHERE sensor_id LIKE %s AND bucket > %s - interval '1 minute'",
            (MODEL, f"{prefix}-%", after),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)
