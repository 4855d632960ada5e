"""Numbered readings over MQTT, and counting what of them TimescaleDB holds.

Reading n comes from sensor n % sensors with event time t0 + n * step_ms milliseconds, so a
count of distinct (sensor, metric, time) rows says exactly which readings arrived, and how
often. A feed may hold some sensors' readings back, as a gateway that lost its link does,
and upload them later in gateway packs.
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
GATEWAY_PACK = 100  # readings per gateway message: well under the bridge's 16 KiB
Values = Callable[[int], dict[str, float]]
Holds = Callable[[int], bool]  # whether reading n is held back by a gateway with no link


def steady_water(n: int) -> dict[str, float]:
    return {"water_pressure": 1.0}


def sensor_id(prefix: str, index: int, sensors: int = SENSORS) -> str:
    """`sensors` sets the width: the ids of a district of that many sort in order."""
    return f"{prefix}-{index:0{max(2, len(str(sensors - 1)))}d}"


@dataclass
class Feed:
    """Publishes reading n at start + n / rate, QoS 1 on one persistent session.

    Readings `holds` says a gateway keeps are published, once `upload(n)` says the gateway
    is back for good, as gateway packs on the gateway's own topic (`gateway` is its id).
    """

    settings: Settings
    prefix: str
    rate: float
    seconds: float
    values: Values = steady_water
    t0: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    sensors: int = SENSORS
    named_as: int = 0  # the district size the ids are written for, when larger than `sensors`
    step_ms: float = 1.0
    holds: Holds = lambda n: False
    upload: Holds = lambda n: False
    gateway: str = ""
    sent: int = 0
    held: list[dict[str, object]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def sensor(self, n: int) -> str:
        return sensor_id(self.prefix, n % self.sensors, max(self.sensors, self.named_as))

    def at(self, n: int) -> datetime:
        return self.t0 + timedelta(milliseconds=n * self.step_ms)

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
                if self.holds(n):
                    self.held.append({"sensor_id": self.sensor(n), "ts": self.at(n).isoformat(), **self.values(n)})
                    continue
                if self.held and self.upload(n):
                    last = self._upload(client)
                body = json.dumps({"ts": self.at(n).isoformat(), **self.values(n)}).encode()
                last = client.publish(f"vigia/{DISTRICT}/{self.sensor(n)}/telemetry", body, qos=1)
                self.sent += 1
            deadline = time.monotonic() + 120
            while last is not None and not last.is_published() and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            client.disconnect()
            client.loop_stop()
            self.done.set()

    def _upload(self, client: mqtt.Client) -> mqtt.MQTTMessageInfo:
        """What the gateway held, in packs on its own topic, counted as sent as it goes out."""
        for start in range(0, len(self.held), GATEWAY_PACK):
            pack = self.held[start : start + GATEWAY_PACK]
            last = client.publish(
                f"vigia/{DISTRICT}/{self.gateway}/telemetry", json.dumps({"readings": pack}).encode(), qos=1
            )
            self.sent += len(pack)
        self.held.clear()
        return last


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


def stored(settings: Settings, prefix: str, since: datetime | None = None, until: datetime | None = None) -> Stored:
    """What the database holds of the prefix's sensors, from `since` to before `until` in event time
    (a minute boundary each, so whole windows are counted)."""
    span = {"sensors": f"{prefix}-%", "since": since or datetime.min.replace(tzinfo=UTC),
            "until": until or datetime.max.replace(tzinfo=UTC)}  # fmt: skip
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT (sensor_id, metric, time)) FROM readings"
            " WHERE sensor_id LIKE %(sensors)s AND time >= %(since)s AND time < %(until)s",
            span,
        ).fetchone() or (0, 0)
        windowed = conn.execute(
            "SELECT coalesce(sum(count), 0) FROM readings_1m"
            " WHERE sensor_id LIKE %(sensors)s AND bucket >= %(since)s AND bucket < %(until)s",
            span,
        ).fetchone()
    return Stored(int(rows), int(distinct), int(windowed[0] if windowed else 0))


def register(
    settings: Settings,
    prefix: str,
    *,
    sensor_type: str = "water",
    metric: str = "water_pressure",
    sensors: int = SENSORS,
    kind: Callable[[int], tuple[str, str]] | None = None,
    gateway: str = "",
) -> None:
    """The feed's sensors, each of `sensor_type` measuring `metric` unless `kind(i)` says otherwise;
    and a gateway that may carry their readings."""
    with psycopg.connect(settings.db_conninfo) as conn:
        for i in range(sensors):
            of_type, measuring = kind(i) if kind else (sensor_type, metric)
            registry.upsert_sensor(
                conn, sensor_id=sensor_id(prefix, i, sensors), sensor_type=of_type, district=DISTRICT,
                latitude=-12.0 - i / 100000, longitude=-77.0, tile_id=TILE, metrics=[measuring],
            )  # fmt: skip
        if gateway:
            registry.upsert_sensor(
                conn, sensor_id=gateway, sensor_type="gateway", district=DISTRICT,
                latitude=-12.0, longitude=-77.0, tile_id=TILE, metrics=[],
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
