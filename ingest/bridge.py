"""The MQTT-to-Kafka bridge: every message becomes readings on Kafka or a dead letter.

Each batch of messages becomes one readings record per sensor, holding every reading the
batch brought of it (see `vigia/reading_records.py`), and one dead letter per refused message.

Delivery: the MQTT session is persistent (QoS 1, clean session off) and each message is
acknowledged to Mosquitto only after Kafka acknowledged what it became (acks=all,
idempotent producer). A crash in between makes Mosquitto deliver it again; the reading id
lets downstream drop the duplicate. Acks go out in arrival order, as MQTT requires.

Throughput: paho runs on the event loop (see `mqtt_loop`), so the whole bridge is one
thread. Messages collect in a deque as paho reads them; a task drains it in batches and
produces each batch, and a second task acknowledges a batch once Kafka has acknowledged
every record in it, while the next batch is already being produced.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import signal
import time
from collections import deque
from datetime import UTC, datetime
from typing import NamedTuple

import paho.mqtt.client as mqtt
import psycopg
from aiokafka import AIOKafkaProducer
from paho.mqtt.enums import CallbackAPIVersion
from tenacity import retry, stop_after_delay, wait_exponential

from ingest import telemetry
from ingest.kafka_batches import PartitionBatches
from ingest.mqtt_loop import BulkClient, MqttOnAsyncio
from ingest.payload import Outcome, SensorInfo, parse_message
from ingest.registry import SensorRegistry
from ingest.rejection import Rejected
from ingest.repo import RegistryReader, active_sensor
from vigia import kafka, logs, reading_records, topics
from vigia.contracts import DeadLetter
from vigia.heartbeat import beat_forever, heartbeat_path
from vigia.reading_records import FlatReading
from vigia.settings import Settings

log = logging.getLogger("vigia.bridge")
MAX_BATCH = 1000


class Inbound(NamedTuple):
    """A message as paho handed it over. A tuple: one is made per message, and a frozen
    dataclass costs several times more to build."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    received_at: float
    redelivered: bool = False


class Classified(NamedTuple):
    readings: list[FlatReading]
    dead_letter: DeadLetter | None
    reasons: list[str]


def subscription(group: str) -> str:
    """A shared subscription lets several bridges split the readings; each message goes to one."""
    return f"$share/{group}/{topics.TELEMETRY_SUBSCRIPTION}" if group else topics.TELEMETRY_SUBSCRIPTION


def classify(message: Inbound, registry: SensorRegistry) -> Classified:
    """Readings for what is good; a dead letter with every reason for what is not."""
    received_at = datetime.fromtimestamp(message.received_at, UTC)
    try:
        outcome = parse_message(message.payload, topic=message.topic, lookup=registry.get, received_at=received_at)
    except Rejected as error:
        outcome = Outcome(rejects=[error])
    if not outcome.rejects:
        return Classified(outcome.readings, None, [])
    letter = DeadLetter(
        reason=outcome.rejects[0].reason,
        detail="; ".join(f"{e.reason}: {e.detail}" for e in outcome.rejects),
        mqtt_topic=message.topic,
        received_at=received_at,
        payload_b64=base64.b64encode(message.payload).decode(),
        accepted_readings=len(outcome.readings),
    )
    return Classified(outcome.readings, letter, [e.reason for e in outcome.rejects])


class Bridge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.inbox: deque[Inbound] = deque()
        self.wakeup = asyncio.Event()
        self.idle = asyncio.Event()
        self.acks: asyncio.Queue[tuple[list[Inbound], list[asyncio.Future[object]], float]] = asyncio.Queue(maxsize=8)
        self.connected = asyncio.Event()
        self.stopping = asyncio.Event()
        reader = RegistryReader(self._registry_db)
        self.registry = SensorRegistry(
            reader.everything, lookup_one=self._load_sensor, changes=reader.changes,
            refresh_seconds=settings.registry_refresh_seconds,
        )  # fmt: skip
        self.producer: AIOKafkaProducer
        self._db: psycopg.Connection | None = None
        self.batches: PartitionBatches
        self.mqtt = BulkClient(
            CallbackAPIVersion.VERSION2,
            client_id=settings.mqtt_client_id,
            protocol=mqtt.MQTTv311,
            clean_session=False,
            manual_ack=True,
        )
        self.mqtt.username_pw_set(settings.mqtt_username, settings.mqtt_password.get_secret_value())
        self.mqtt.connect_timeout = 5

    @retry(wait=wait_exponential(max=10), stop=stop_after_delay(300), reraise=True)
    def _first_registry_load(self) -> None:
        """The bridge cannot judge a message without the registry: wait for the database."""
        self.registry.refresh()

    def _registry_db(self) -> psycopg.Connection:
        """One connection kept for registry reads; reopened when the database went away."""
        if self._db is None or self._db.closed or self._db.broken:
            self._db = psycopg.connect(self.settings.db_conninfo, autocommit=True)
        return self._db

    def _load_sensor(self, sensor_id: str) -> SensorInfo | None:
        return active_sensor(self._registry_db(), sensor_id=sensor_id)

    # paho calls these on the event loop's thread (see mqtt_loop); they only record and signal.
    def _wire_mqtt(self, network: MqttOnAsyncio) -> None:
        inbox, wakeup = self.inbox, self.wakeup

        def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
            log.info("MQTT connected (%s, session present: %s)", reason, getattr(flags, "session_present", "?"))
            client.subscribe(subscription(self.settings.mqtt_shared_group), qos=1)
            self.connected.set()

        def on_disconnect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
            log.warning("MQTT disconnected (%s); reconnecting", reason)
            self.connected.clear()

        def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
            network.messages += 1
            inbox.append(Inbound(msg.topic, bytes(msg.payload), msg.mid, msg.qos, time.time(), bool(msg.dup)))
            wakeup.set()

        self.mqtt.on_connect = on_connect
        self.mqtt.on_disconnect = on_disconnect
        self.mqtt.on_message = on_message

    async def _produce(self) -> None:
        while True:
            self.idle.set()
            await self.wakeup.wait()
            self.wakeup.clear()
            self.idle.clear()
            while self.inbox:
                batch = [self.inbox.popleft() for _ in range(min(len(self.inbox), MAX_BATCH))]
                telemetry.QUEUE_DEPTH.set(len(self.inbox))
                started = time.perf_counter()
                produced = await self._produce_batch(batch)
                futures = await self.batches.send()
                # Counted once per batch: a labelled counter's lock per message shows in profiles.
                telemetry.RECEIVED.inc(len(batch))
                telemetry.REDELIVERED.inc(sum(1 for message in batch if message.redelivered))
                telemetry.PRODUCED.inc(produced)
                await self.acks.put((batch, futures, started))

    async def _produce_batch(self, batch: list[Inbound]) -> int:
        """Append what a batch of messages became to the open batches: one record per sensor
        holding all its readings of the batch, and a dead letter per refused message. Returns
        how many readings."""
        readings: list[FlatReading] = []
        for message in batch:
            outcome = classify(message, self.registry)
            readings += outcome.readings
            if outcome.dead_letter is not None:
                for reason in outcome.reasons:
                    telemetry.DEAD_LETTERS.labels(reason=reason).inc()
                await self.batches.append(
                    topics.READINGS_DEAD_LETTER,
                    message.topic.encode(),
                    outcome.dead_letter.model_dump_json().encode(),
                    int(message.received_at * 1000),
                )
        for sensor_id, own in reading_records.by_sensor(readings):
            await self.batches.append(
                topics.READINGS,
                sensor_id.encode(),
                reading_records.encode(own),
                # Kafka's timestamp is the newest event time the record carries.
                int(max(r.ts for r in own) * 1000),
            )
        return len(readings)

    async def _acknowledge(self) -> None:
        while True:
            batch, futures, started = await self.acks.get()
            # Raises if Kafka refused after its retries: the bridge stops without acking, and
            # Mosquitto re-delivers these messages to the next bridge process.
            await asyncio.gather(*futures)
            telemetry.PRODUCE_LATENCY.observe(time.perf_counter() - started)
            self.mqtt.ack_many((message.mid, message.qos) for message in batch)
            telemetry.ACKED.inc(len(batch))
            self.acks.task_done()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        if self.settings.bridge_metrics_port:
            telemetry.serve(self.settings.bind_host, self.settings.bridge_metrics_port)
        await asyncio.to_thread(self._first_registry_load)
        # aiokafka binds to the running loop, so the producer is made here, not in __init__.
        self.producer = kafka.producer(self.settings, linger_ms=5, max_batch_size=512 * 1024, request_timeout_ms=30_000)
        await self.producer.start()
        self.batches = PartitionBatches(self.producer)
        network = MqttOnAsyncio(loop, self.mqtt)
        self._wire_mqtt(network)
        self.mqtt.connect_async(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=30)
        tasks = [
            asyncio.create_task(coro)
            for coro in (
                network.reconnect_forever(self.stopping),
                self._produce(),
                self._acknowledge(),
                beat_forever(heartbeat_path(self.settings.state_dir, "bridge"), alive=self.connected.is_set),
            )
        ]
        stop = asyncio.create_task(self.stopping.wait())
        try:
            done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stop and (error := task.exception()):
                    raise error
            await self._drain()
        finally:
            self.mqtt.disconnect()
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await self.producer.stop()
            log.info("bridge stopped")

    async def _drain(self) -> None:
        """On a clean stop, finish what is in hand so its acks go out; give up after 10 s."""
        self.mqtt.on_message = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                await self.idle.wait()
                await self.acks.join()


def run(settings: Settings) -> None:
    logs.setup("bridge")
    asyncio.run(Bridge(settings).run())
