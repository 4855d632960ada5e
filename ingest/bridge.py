"""The MQTT-to-Kafka bridge: every message becomes readings on Kafka or a dead letter.

Delivery: the MQTT session is persistent (QoS 1, clean_session off) and each message is
acknowledged to Mosquitto only after Kafka acknowledged what it became (acks=all,
idempotent producer). A crash in between makes Mosquitto deliver it again; the reading id
lets downstream drop the duplicate. Acks go out in arrival order, as MQTT requires.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import signal
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion

from vigia import topics
from vigia.contracts import DeadLetter, Reading, utcnow
from vigia.heartbeat import beat, heartbeat_path
from vigia.ingest.payload import PayloadError, SensorInfo, parse_plain, parse_topic
from vigia.ingest.registry import SensorRegistry
from vigia.ingest.repo import load_active_sensors
from vigia.settings import Settings

log = logging.getLogger("vigia.bridge")
SUBSCRIPTION = "vigia/+/+/telemetry"


@dataclass(frozen=True)
class Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: datetime


def classify(message: Inbound, registry: SensorRegistry) -> list[Reading] | DeadLetter:
    """Readings for a good message; a dead letter with the reason for anything else."""
    try:
        address = parse_topic(message.topic)
        sensor = registry.get(address.sensor_id)
        return parse_plain(message.payload, topic=message.topic, sensor=sensor, received_at=message.received_at)
    except PayloadError as error:
        return DeadLetter(
            reason=error.reason,
            detail=error.detail,
            mqtt_topic=message.topic,
            received_at=message.received_at,
            payload_b64=base64.b64encode(message.payload).decode(),
        )


class Bridge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.inbox: asyncio.Queue[Inbound] = asyncio.Queue()
        self.pending: asyncio.Queue[tuple[Inbound, list[asyncio.Future[object]]]] = asyncio.Queue(maxsize=10_000)
        self.counts: Counter[str] = Counter()
        self.connected = asyncio.Event()
        self.stopping = asyncio.Event()
        self.registry = SensorRegistry(self._load_sensors, refresh_seconds=settings.registry_refresh_seconds)
        self.producer: AIOKafkaProducer
        self.mqtt = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            clean_session=False,
            manual_ack=True,
        )
        self.mqtt.username_pw_set(settings.mqtt_username, settings.mqtt_password.get_secret_value())
        self.mqtt.reconnect_delay_set(min_delay=1, max_delay=10)

    def _load_sensors(self) -> dict[str, SensorInfo]:
        with psycopg.connect(self.settings.db_conninfo) as conn:
            return load_active_sensors(conn)

    # paho calls these from its network thread; hand everything to the event loop.
    def _wire_mqtt(self, loop: asyncio.AbstractEventLoop) -> None:
        def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
            log.info("MQTT connected (%s)", reason)
            client.subscribe(SUBSCRIPTION, qos=1)
            loop.call_soon_threadsafe(self.connected.set)

        def on_disconnect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
            log.warning("MQTT disconnected (%s); paho reconnects", reason)
            loop.call_soon_threadsafe(self.connected.clear)

        def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            inbound = Inbound(msg.topic, bytes(msg.payload), msg.mid, msg.qos, utcnow())
            loop.call_soon_threadsafe(self.inbox.put_nowait, inbound)

        self.mqtt.on_connect = on_connect
        self.mqtt.on_disconnect = on_disconnect
        self.mqtt.on_message = on_message

    async def _produce(self) -> None:
        while True:
            message = await self.inbox.get()
            outcome = classify(message, self.registry)
            futures: list[asyncio.Future[object]] = []
            if isinstance(outcome, DeadLetter):
                self.counts[f"dead_letter:{outcome.reason}"] += 1
                futures.append(
                    await self.producer.send(
                        topics.READINGS_DEAD_LETTER,
                        value=outcome.model_dump_json().encode(),
                        key=message.topic.encode(),
                        timestamp_ms=int(message.received_at.timestamp() * 1000),
                    )
                )
            else:
                for reading in outcome:
                    self.counts["readings"] += 1
                    futures.append(
                        await self.producer.send(
                            topics.READINGS,
                            value=reading.model_dump_json().encode(),
                            key=reading.sensor_id.encode(),
                            # Kafka's timestamp is the event time, so the stream windows by event time.
                            timestamp_ms=int(reading.event_time.timestamp() * 1000),
                            headers=[("reading-id", reading.reading_id.encode())],
                        )
                    )
            await self.pending.put((message, futures))
            self.inbox.task_done()

    async def _acknowledge(self) -> None:
        while True:
            message, futures = await self.pending.get()
            # Raises if Kafka refused after its retries: the bridge stops without acking, and
            # Mosquitto re-delivers the message to the next bridge process.
            await asyncio.gather(*futures)
            if message.qos > 0:
                self.mqtt.ack(message.mid, message.qos)
            self.counts["acked"] += 1
            self.pending.task_done()

    async def _heartbeat(self) -> None:
        path = heartbeat_path(self.settings.state_dir, "bridge")
        while True:
            if self.connected.is_set():
                beat(path, f"{dict(self.counts)}")
            await asyncio.sleep(2)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        await asyncio.to_thread(self.registry.refresh)
        # aiokafka binds to the running loop, so the producer is made here, not in __init__.
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
            request_timeout_ms=30_000,
        )
        await self.producer.start()
        self._wire_mqtt(loop)
        self.mqtt.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        self.mqtt.loop_start()
        tasks = [asyncio.create_task(coro) for coro in (self._produce(), self._acknowledge(), self._heartbeat())]
        stop = asyncio.create_task(self.stopping.wait())
        try:
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and task.exception():
                    raise task.exception()  # type: ignore[misc]
            await self._drain()
        finally:
            self.mqtt.disconnect()
            self.mqtt.loop_stop()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await self.producer.stop()
            log.info("bridge stopped: %s", dict(self.counts))

    async def _drain(self) -> None:
        """On a clean stop, finish what is in hand so its acks go out; give up after 10 s."""
        self.mqtt.on_message = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self.inbox.join()
                await self.pending.join()


def run(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(Bridge(settings).run())
