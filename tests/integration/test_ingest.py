"""The bridge on the real stack: dead letters, a crash mid-stream, and the broker's ACLs."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from api import provisioning
from ops.mosquitto import Mosquitto
from ops.supervisor import Supervisor
from simulate.simulator import Publisher
from tests.ingest.corpus import bad_cases
from tests.integration.helpers import eventually, read_topic, register
from vigia import dynsec, topics
from vigia.accounts import load_accounts
from vigia.contracts import DeadLetter
from vigia.reading_records import FlatReading, decode
from vigia.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]
DISTRICT = "integration"


def readings_of(settings: Settings, sensor_id: str) -> list[FlatReading]:
    found = [reading for r in read_topic(settings, topics.READINGS) for reading in decode(r.value)]
    return [r for r in found if r.sensor_id == sensor_id]


def test_every_bad_payload_is_dead_lettered_and_the_good_ones_around_it_arrive(stack: Settings) -> None:
    sensor, other = "it-corpus-01", "it-corpus-02"
    register(stack, sensor, -11.99, -77.01, "water", ["water_pressure", "flow"])
    register(stack, other, -11.99, -77.02, "water", ["flow"])
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    cases = bad_cases(datetime.now(UTC))
    with Publisher(stack, client_id="it-corpus") as publisher:
        for index, case in enumerate(cases):
            good = {"ts": (start + timedelta(seconds=index)).isoformat(), "water_pressure": 1.0 + index / 100}
            publisher.publish(f"vigia/{DISTRICT}/{sensor}/telemetry", orjson.dumps(good)).wait_for_publish(10)
            publisher.publish(case.topic_for(DISTRICT, sensor), case.payload_for(other)).wait_for_publish(10)

    def dead_letters() -> dict[bytes, DeadLetter] | None:
        letters = [DeadLetter.model_validate_json(r.value) for r in read_topic(stack, topics.READINGS_DEAD_LETTER)]
        by_payload = {base64.b64decode(letter.payload_b64): letter for letter in letters}
        return by_payload if all(case.payload_for(other) in by_payload for case in cases) else None

    letters = eventually(dead_letters, timeout=60, every=1, what="every bad payload in the dead-letter topic")
    for case in cases:
        letter = letters[case.payload_for(other)]
        assert letter.reason == case.reason, case.name
        assert letter.mqtt_topic == case.topic_for(DISTRICT, sensor), case.name
    good = eventually(lambda: readings_of(stack, sensor) if len(readings_of(stack, sensor)) >= len(cases) else None)
    assert sorted(r.event_time for r in good) == [start + timedelta(seconds=i) for i in range(len(cases))]


def test_a_bridge_killed_mid_stream_loses_no_reading(stack: Settings) -> None:
    sensor = "it-crash-01"
    register(stack, sensor, -11.98, -77.00, "water", ["water_pressure"])
    total = 3000
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    sent = threading.Event()

    def publish_numbered() -> None:
        with Publisher(stack, client_id="it-crash-publisher") as publisher:
            infos = []
            for number in range(total):
                body = {"ts": (start + timedelta(milliseconds=number)).isoformat(), "water_pressure": 1.0}
                infos.append(publisher.publish(f"vigia/{DISTRICT}/{sensor}/telemetry", orjson.dumps(body)))
                if number % 200 == 199:
                    time.sleep(0.1)  # about 2,000 readings/s
            for info in infos:
                info.wait_for_publish(30)  # Mosquitto has every one (PUBACK)
        sent.set()

    publisher_thread = threading.Thread(target=publish_numbered)
    publisher_thread.start()
    time.sleep(0.6)
    supervisor = Supervisor(stack.state_dir)
    pid = int(supervisor.info("bridge")["pid"])  # type: ignore[index]
    os.kill(pid, signal.SIGKILL)  # supervisord starts a new bridge by itself
    publisher_thread.join(60)
    assert sent.is_set()

    def all_numbers() -> list[FlatReading] | None:
        found = readings_of(stack, sensor)
        return found if len({r.event_time for r in found}) >= total else None

    found = eventually(all_numbers, timeout=90, every=2, what=f"all {total} numbered readings in Kafka")
    numbers = {round((r.event_time - start).total_seconds() * 1000) for r in found}
    assert numbers == set(range(total))
    new_pid = int(supervisor.info("bridge")["pid"])  # type: ignore[index]
    assert new_pid != pid


def _connect(settings: Settings, username: str | None, password: str | None, *, tls: bool = True) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"it-acl-{username}-{time.time_ns()}")
    if username is not None:
        client.username_pw_set(username, password)
    if tls:  # as a device elsewhere connects: TLS, verifying the broker with the stack's CA
        client.tls_set(ca_certs=str(Mosquitto(settings).home / "tls" / "ca.crt"))
    return client


def _port(settings: Settings, tls: bool) -> int:
    return settings.mqtt_tls_port if tls else settings.mqtt_port


def _connack(settings: Settings, username: str | None, password: str | None, *, tls: bool = True) -> str:
    client = _connect(settings, username, password, tls=tls)
    result: list[str] = []
    done = threading.Event()
    client.on_connect = lambda c, u, f, reason, p: (result.append(str(reason)), done.set())
    client.connect(settings.mqtt_host, _port(settings, tls))
    client.loop_start()
    done.wait(10)
    client.disconnect()
    client.loop_stop()
    return result[0] if result else "no answer"


def _publish(settings: Settings, username: str, password: str, topic: str, body: bytes) -> None:
    client = _connect(settings, username, password)
    client.connect(settings.mqtt_host, settings.mqtt_tls_port)
    client.loop_start()
    client.publish(topic, body, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def test_sensor_credentials_reach_only_the_sensor_own_topic(stack: Settings) -> None:
    accounts = load_accounts(stack)  # Mosquitto's dynamic-security plugin, through $CONTROL
    first = provisioning.add(stack, accounts, sensor_id="it-acl-01", sensor_type="power", district=DISTRICT,
                             latitude=-11.97, longitude=-77.0)  # fmt: skip
    provisioning.add(stack, accounts, sensor_id="it-acl-02", sensor_type="power", district=DISTRICT,
                     latitude=-11.97, longitude=-77.01)  # fmt: skip
    assert _connack(stack, None, None) != "Success"
    assert _connack(stack, "it-acl-01", "not-the-password") != "Success"
    assert _connack(stack, "it-acl-01", first.password) == "Success"

    now = datetime.now(UTC)
    forged = orjson.dumps({"ts": now.isoformat(), "mains_voltage": 111.0})
    honest = orjson.dumps({"ts": now.isoformat(), "mains_voltage": 222.0})
    _publish(stack, "it-acl-01", first.password, f"vigia/{DISTRICT}/it-acl-02/telemetry", forged)  # dropped
    # Over the broker's 256 KiB limit: Mosquitto drops it (and the connection) before the bridge sees it.
    oversized = orjson.dumps({"ts": now.isoformat(), "mains_voltage": 333.0, "pad": "x" * 300_000})
    with contextlib.suppress(RuntimeError, ValueError):  # paho may report the dropped connection
        _publish(stack, "it-acl-01", first.password, first.topic, oversized)
    _publish(stack, "it-acl-01", first.password, first.topic, honest)
    eventually(lambda: readings_of(stack, "it-acl-01"), what="the honest reading")
    assert [r.value for r in readings_of(stack, "it-acl-01")] == [222.0]
    assert readings_of(stack, "it-acl-02") == []
    letters = read_topic(stack, topics.READINGS_DEAD_LETTER)
    assert all(base64.b64decode(DeadLetter.model_validate_json(r.value).payload_b64) not in {forged, oversized}
               for r in letters)  # fmt: skip

    # Revoking puts a connected device off at once, and keeps it off.
    connected = _connect(stack, "it-acl-01", first.password)
    put_off = threading.Event()
    connected.on_disconnect = lambda *args: put_off.set()
    connected.connect(stack.mqtt_host, stack.mqtt_tls_port)
    connected.loop_start()
    try:
        assert provisioning.revoke(stack, accounts, "it-acl-01")
        assert put_off.wait(10), "the revoked sensor is still connected"
    finally:
        connected.loop_stop()
    assert _connack(stack, "it-acl-01", first.password) != "Success"


def test_the_simulator_publishes_only_in_its_districts_and_plain_mqtt_stays_on_loopback(stack: Settings) -> None:
    limited = stack.model_copy(update={"mqtt_simulator_username": "it-simulator",
                                       "mqtt_simulator_password": SecretStr("it-simulator-password"),
                                       "mqtt_simulator_districts": ["it-simulated"]})  # fmt: skip
    dynsec.run(stack, dynsec.simulator_commands(limited))  # what `vigia up` does with these settings
    seen: list[str] = []
    watcher = _connect(stack, stack.mqtt_username, stack.mqtt_password.get_secret_value(), tls=False)
    subscribed = threading.Event()
    watcher.on_subscribe = lambda *args: subscribed.set()
    watcher.on_message = lambda c, u, message: seen.append(message.topic)
    watcher.connect(stack.mqtt_host, stack.mqtt_port)
    watcher.subscribe("$share/it-bridges/vigia/+/it-sim-probe/#", qos=1)  # as several bridges do
    watcher.loop_start()
    try:
        assert subscribed.wait(10)
        for district in ("it-simulated", "it-elsewhere"):
            _publish(stack, "it-simulator", "it-simulator-password", f"vigia/{district}/it-sim-probe/x", b"{}")
        eventually(lambda: seen, what="the simulated district's message")
        time.sleep(1)
    finally:
        watcher.loop_stop()
    assert seen == ["vigia/it-simulated/it-sim-probe/x"]
    with open(Mosquitto(stack).home / "mosquitto.conf") as conf:
        listeners = [line.split() for line in conf if line.startswith("listener ")]
    assert [stack.mqtt_port, stack.mqtt_host] in [[int(port), host] for _, port, host in listeners]
    assert stack.mqtt_host == "127.0.0.1"  # plain MQTT only on loopback; TLS on the other listener
