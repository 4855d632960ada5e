"""Publishes a simulated district over MQTT, paced in real time or at a set rate.

What the district sends is decided by `district_model` (pure and seeded); this module only
registers its sensors, publishes with QoS 1 and keeps count, so a test can compare what was
sent with what arrived.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion

from simulate.district_model import DistrictModel, SimSensor, place_sensors, start_time
from simulate.scenario import Scenario
from vigia import registry
from vigia.settings import Settings

IN_FLIGHT = 500  # bounded, or Mosquitto drops a client that floods it with QoS 1


class Publisher:
    """A QoS 1 publisher with a bounded in-flight window, as the broker requires of bursty clients."""

    def __init__(self, settings: Settings, client_id: str = "vigia-simulator") -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        self.client.username_pw_set(
            settings.mqtt_simulator_username, settings.mqtt_simulator_password.get_secret_value()
        )
        self.client.max_inflight_messages_set(IN_FLIGHT)
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


@dataclass
class PublishReport:
    messages: int = 0
    readings: int = 0
    malformed: int = 0
    simulated_until: datetime | None = None
    sensor_ids: list[str] = field(default_factory=list)


def register(settings: Settings, sensors: list[SimSensor]) -> None:
    with psycopg.connect(settings.db_conninfo) as conn:
        for sensor in sensors:
            registry.upsert_sensor(
                conn,
                sensor_id=sensor.sensor_id,
                sensor_type=sensor.sensor_type,
                district=sensor.district,
                latitude=sensor.latitude,
                longitude=sensor.longitude,
                tile_id=sensor.tile_id,
                metrics=[m.value for m in sensor.metrics],
                place=sensor.place,
            )


def run(
    settings: Settings,
    scenario: Scenario,
    *,
    on_progress: Callable[[PublishReport], None] | None = None,
    now: datetime | None = None,
) -> PublishReport:
    """Register the scenario's sensors and publish it; returns what was sent."""
    sensors = place_sensors(scenario, settings.tile_zoom)
    register(settings, sensors)
    start = start_time(scenario, now or datetime.now(UTC))
    model = DistrictModel(scenario, sensors, start)
    report = PublishReport(sensor_ids=[s.sensor_id for s in sensors])
    began = time.monotonic()
    with Publisher(settings) as publisher:
        for tick in model.ticks():
            if scenario.live:  # each tick at its own wall-clock moment
                delay = (tick[0].at - start).total_seconds() - (time.monotonic() - began) if tick else 0
                if delay > 0:
                    time.sleep(delay)
            infos = []
            for emission in tick:
                if scenario.rate:  # at most `rate` messages per real second
                    ahead = report.messages / scenario.rate - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
                infos.append(publisher.publish(emission.topic, emission.payload))
                report.messages += 1
                report.readings += emission.readings
                report.malformed += emission.malformed
            for info in infos:
                info.wait_for_publish(timeout=30)
            if tick:
                report.simulated_until = tick[0].at
            if on_progress:
                on_progress(report)
    return report
