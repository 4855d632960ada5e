"""A simulated district: sensors placed around a centre, each with plausible daily cycles.

Pure generation (`district_sensors`, `sample`) is separate from publishing, so the shapes of
the signals are testable without a broker. The water model follows Lima's periphery:
piped supply only in a daily window, zero pressure outside it (SUNASS, via La República,
2023-08-18); mains voltage is Peru's 220 V with sags.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vigia.contracts import Metric
from vigia.ingest.metrics import DEFAULT_METRICS
from vigia.settings import Settings
from vigia.tiles import tile_id_for

LIMA_OFFSET = timedelta(hours=-5)

SENSOR_TYPES = {kind: metrics for kind, metrics in DEFAULT_METRICS.items() if metrics}


@dataclass(frozen=True)
class District:
    slug: str
    code: str
    latitude: float
    longitude: float


SAN_JUAN_DE_LURIGANCHO = District("san-juan-de-lurigancho", "sjl", -11.9760, -76.9990)


@dataclass(frozen=True)
class SimSensor:
    sensor_id: str
    sensor_type: str
    district: str
    latitude: float
    longitude: float
    tile_id: str
    metrics: tuple[Metric, ...]
    supply_start_hour: int  # local hour the piped water arrives
    supply_hours: int

    @property
    def topic(self) -> str:
        return f"vigia/{self.district}/{self.sensor_id}/telemetry"


def district_sensors(district: District, per_type: int, zoom: int, seed: int = 7) -> list[SimSensor]:
    """Sensors scattered within about 1 km of the centre, deterministic for a seed."""
    rng = random.Random(seed)
    sensors = []
    for sensor_type, metrics in SENSOR_TYPES.items():
        for index in range(1, per_type + 1):
            lat = district.latitude + rng.uniform(-0.009, 0.009)
            lon = district.longitude + rng.uniform(-0.009, 0.009)
            sensors.append(
                SimSensor(
                    sensor_id=f"{district.code}-{sensor_type}-{index:02d}",
                    sensor_type=sensor_type,
                    district=district.slug,
                    latitude=round(lat, 6),
                    longitude=round(lon, 6),
                    tile_id=tile_id_for(lat, lon, zoom),
                    metrics=metrics,
                    supply_start_hour=rng.choice([4, 5, 6, 14]),
                    supply_hours=rng.choice([5, 6, 8]),
                )
            )
    return sensors


def _local_hour(at: datetime) -> float:
    local = at + LIMA_OFFSET
    return local.hour + local.minute / 60 + local.second / 3600


def water_supplied(sensor: SimSensor, at: datetime) -> bool:
    hour = _local_hour(at)
    return (hour - sensor.supply_start_hour) % 24 < sensor.supply_hours


def sample(sensor: SimSensor, at: datetime, rng: random.Random) -> dict[str, float]:
    """One reading of every metric the sensor has, at time `at`."""
    hour = _local_hour(at)
    daily = math.sin((hour - 9) / 24 * 2 * math.pi)  # peaks mid-afternoon
    supplied = water_supplied(sensor, at)
    values: dict[Metric, float] = {
        Metric.WATER_PRESSURE: rng.uniform(1.1, 2.0) if supplied else rng.uniform(0.0, 0.04),
        Metric.TANK_LEVEL: rng.uniform(70, 95) if supplied else rng.uniform(15, 60),
        Metric.FLOW: rng.uniform(4, 14) if supplied else 0.0,
        Metric.MAINS_VOLTAGE: 0.0 if rng.random() < 0.002 else rng.gauss(220, 4) - (25 if rng.random() < 0.02 else 0),
        Metric.TEMPERATURE: 18 + 4 * daily + rng.gauss(0, 0.3),
        Metric.RELATIVE_HUMIDITY: min(100.0, 82 - 8 * daily + rng.gauss(0, 1.5)),
        Metric.PM25: max(0.0, 35 + 15 * daily + rng.gauss(0, 5)),
        Metric.CO: max(0.0, 1.5 + 0.8 * daily + rng.gauss(0, 0.2)),
        Metric.TILT: 0.4 + rng.gauss(0, 0.01),
        Metric.VIBRATION: abs(rng.gauss(0.2, 0.08)),
        Metric.FLOOD_LEVEL: max(0.0, rng.gauss(0.01, 0.005)),
        Metric.BATTERY: rng.uniform(60, 100),
    }
    return {metric.value: round(values[metric], 4) for metric in sensor.metrics}


def payload(sensor: SimSensor, at: datetime, rng: random.Random) -> bytes:
    return json.dumps({"ts": at.isoformat(), **sample(sensor, at, rng)}).encode()


def ticks(seconds: float, interval: float, clock: Callable[[], float] = time.monotonic) -> Iterator[datetime]:
    """Wall-clock instants every `interval` seconds for `seconds`, paced in real time."""
    start = clock()
    n = 0
    while (elapsed := n * interval) < seconds:
        delay = start + elapsed - clock()
        if delay > 0:
            time.sleep(delay)
        yield datetime.now(UTC)
        n += 1


@dataclass
class PublishReport:
    messages: int = 0
    readings: int = 0


class Publisher:
    """Publishes with QoS 1, waiting for each PUBACK window to drain so the broker never drops us."""

    def __init__(self, settings: Settings, client_id: str = "vigia-simulator") -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.username_pw_set(
            settings.mqtt_simulator_username, settings.mqtt_simulator_password.get_secret_value()
        )
        self.client.max_inflight_messages_set(500)
        self.client.max_queued_messages_set(0)
        self._connected = threading.Event()
        self.client.on_connect = lambda *args: self._connected.set()
        self.settings = settings

    def __enter__(self) -> Publisher:
        self.client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(10):
            raise ConnectionError(f"no CONNACK from {self.settings.mqtt_host}:{self.settings.mqtt_port}")
        return self

    def publish(self, topic: str, body: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, body, qos=1)

    def __exit__(self, *exc: object) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run(
    settings: Settings,
    sensors: list[SimSensor],
    *,
    seconds: float,
    interval: float,
    seed: int = 11,
    on_tick: Callable[[PublishReport], None] | None = None,
) -> PublishReport:
    rng = random.Random(seed)
    report = PublishReport()
    with Publisher(settings) as publisher:
        for at in ticks(seconds, interval):
            infos = []
            for sensor in sensors:
                infos.append(publisher.publish(sensor.topic, payload(sensor, at, rng)))
                report.messages += 1
                report.readings += len(sensor.metrics)
            for info in infos:
                info.wait_for_publish(timeout=30)
            if on_tick:
                on_tick(report)
    return report
