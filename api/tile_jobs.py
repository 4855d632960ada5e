"""The API's way into the inference worker: uploaded images become tile jobs on Kafka.

The producer starts on the first upload, not with the app, so the API serves everything
else while Kafka is away; an upload then answers 503 instead of hanging.
"""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from vigia import kafka, topics
from vigia.contracts import TileJob
from vigia.settings import Settings


class QueueUnavailable(RuntimeError):
    """Kafka did not take the job."""


class TileJobQueue:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = kafka.producer(
                    self.settings, max_request_size=kafka.IMAGE_RECORD_BYTES, request_timeout_ms=10_000
                )
                try:
                    await asyncio.wait_for(producer.start(), timeout=10)
                except (KafkaError, TimeoutError) as error:
                    await producer.stop()
                    raise QueueUnavailable(f"Kafka is not reachable: {type(error).__name__}") from error
                self._producer = producer
            return self._producer

    async def put(self, job: TileJob) -> None:
        producer = await self._started()
        try:
            await asyncio.wait_for(
                producer.send_and_wait(topics.TILE_JOBS, job.to_json(), key=job.tile_id.encode()), 15
            )
        except (KafkaError, TimeoutError) as error:
            raise QueueUnavailable(f"Kafka did not take the job: {type(error).__name__}") from error

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
