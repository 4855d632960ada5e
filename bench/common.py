"""What the benchmarks share: a private stack on its own ports, and small measuring helpers."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from ops import control
from vigia.settings import Settings

# Below 32768, where Linux picks ephemeral ports: a client retrying a port in that range
# while its server is down can be given that very port, connect to itself, and hold it, so
# the server cannot bind it again (seen when the drills restarted Kafka on 39092).
BENCH_ENV = {
    "VIGIA_MQTT_PORT": "31883",
    "VIGIA_KAFKA_BOOTSTRAP": "127.0.0.1:30092",
    "VIGIA_KAFKA_CONTROLLER_PORT": "30093",
    "VIGIA_DB_PORT": "30433",
    "VIGIA_API_PORT": "30080",
    "VIGIA_BRIDGE_METRICS_PORT": "0",
    "VIGIA_STREAM_METRICS_PORT": "0",
    "VIGIA_INFERENCE_METRICS_PORT": "0",
    "VIGIA_INFERENCE_PORT": "30105",
    "VIGIA_NOTIFIER_METRICS_PORT": "0",
    "VIGIA_MQTT_TLS_PORT": "31884",
    "VIGIA_MQTT_SIMULATOR_DISTRICTS": '["*"]',  # benchmarks and drills publish in districts of their own
    "VIGIA_MLFLOW_PORT": "35000",
    "VIGIA_KANNEL_ADMIN_PORT": "30130",
    "VIGIA_KANNEL_BOX_PORT": "30131",
    "VIGIA_KANNEL_SENDSMS_PORT": "30132",
    "VIGIA_KANNEL_FAKE_SMSC_PORT": "30133",
    "VIGIA_SMSC_INJECT_PORT": "30134",
}


@contextmanager
def bench_stack(components: list[str], env: dict[str, str] | None = None) -> Iterator[Settings]:
    """Start the named components on benchmark ports (or as `env` says) in a temporary state
    directory; stop and delete after."""
    state_dir = Path(tempfile.mkdtemp(prefix="vigia-bench-"))
    os.environ.update({**BENCH_ENV, **(env or {})})
    os.environ["VIGIA_STATE_DIR"] = str(state_dir)
    settings = Settings()
    try:
        control.up(settings, components, report=lambda line: print(f"  {line}", flush=True))
        yield settings
    finally:
        control.down(settings, purge=True, report=lambda line: None)
        shutil.rmtree(state_dir, ignore_errors=True)


async def partitions_of(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """A fresh consumer knows no topic until it asks for metadata; ask until it does."""
    for _ in range(100):
        found = consumer.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no metadata for topic {topic}")


async def _end_offsets(settings: Settings, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        offsets = await consumer.end_offsets(await partitions_of(consumer, topic))
        return sum(offsets.values())
    finally:
        await consumer.stop()


def topic_size(settings: Settings, topic: str) -> int:
    return asyncio.run(_end_offsets(settings, topic))


class OffsetWatch:
    """Polls a topic's end offsets and times the arrival of `expected` new records.

    The clock starts at the first new record, so each contender's start-up is not counted.
    """

    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self.start = topic_size(settings, topic)

    def count(self) -> int:
        """Records added to the topic since this watch began."""
        return topic_size(self.settings, self.topic) - self.start

    def wait(self, expected: int, timeout: float = 300, alive: Callable[[], bool] = lambda: True) -> tuple[float, int]:
        """Returns (seconds from the first to the last record, records counted in that span)."""

        async def watch() -> tuple[float, int]:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap, enable_auto_commit=False)
            await consumer.start()
            try:
                partitions = await partitions_of(consumer, self.topic)
                first_at: float | None = None
                first_count = 0
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    if not alive():
                        raise RuntimeError("a contender exited before the backlog was drained")
                    count = sum((await consumer.end_offsets(partitions)).values()) - self.start
                    now = time.perf_counter()
                    if first_at is None and count > 0:
                        first_at, first_count = now, count
                    if count >= expected and first_at is not None:
                        return now - first_at, count - first_count
                    await asyncio.sleep(0.02)
                raise TimeoutError(f"only {count} of {expected} records reached {self.topic}")
            finally:
                await consumer.stop()

        return asyncio.run(watch())


def percentile(values: list[float], q: float) -> float:
    """The value at quantile `q` of the latencies measured (unsorted), by its rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
