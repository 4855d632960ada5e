"""Assessments out: each sensor tile's newest assessment onto the compacted embeddings topic, keyed by tile."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

from vigia import kafka, topics
from vigia.contracts import TileEmbedding
from vigia.settings import Settings


async def send(producer: AIOKafkaProducer, embeddings: Iterable[TileEmbedding]) -> None:
    """Queue them on a started producer; the caller flushes before it commits what they came from."""
    for embedding in embeddings:
        await producer.send(
            topics.TILE_EMBEDDINGS, value=embedding.model_dump_json().encode(), key=embedding.tile_id.encode()
        )


async def publish(settings: Settings, embeddings: Iterable[TileEmbedding]) -> None:
    """Send and flush on a producer of their own: for assessments made outside the worker (drills, tests)."""
    producer = kafka.producer(settings)
    await producer.start()
    try:
        await send(producer, embeddings)
        await producer.flush()
    finally:
        await producer.stop()
