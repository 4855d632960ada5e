"""Publishes tile assessments to the compacted embeddings topic, keyed by tile."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from vigia import topics
from vigia.contracts import TileEmbedding
from vigia.settings import Settings


async def publish_embeddings(settings: Settings, embeddings: list[TileEmbedding]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for embedding in embeddings:
            await producer.send(
                topics.TILE_EMBEDDINGS, value=embedding.model_dump_json().encode(), key=embedding.tile_id.encode()
            )
        await producer.flush()
    finally:
        await producer.stop()
    return len(embeddings)
