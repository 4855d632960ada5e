"""Creates the project's Kafka topics, idempotently."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from vigia.settings import Settings
from vigia.topics import TOPICS, TopicSpec


async def ensure_topics(settings: Settings, specs: tuple[TopicSpec, ...] = TOPICS) -> list[str]:
    """Create whichever topics are missing; returns the names it created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=settings.kafka_partitions,
                replication_factor=settings.kafka_replication_factor,
                topic_configs={**spec.kafka_configs(), "min.insync.replicas": str(settings.kafka_min_insync_replicas)},
            )
            for spec in specs
            if spec.name not in existing
        ]
        if missing:
            # Another process may create them between our list and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def consumer_lag(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Records per partition of `topic` beyond what `group` has committed: what is still to do."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        ends = await consumer.end_offsets(partitions)
        lag = {}
        for tp in partitions:
            done = committed.get(tp)
            lag[tp.partition] = ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0)
        return lag
    finally:
        await consumer.stop()
        await admin.close()
