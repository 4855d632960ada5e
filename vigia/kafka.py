"""The one way a Vigía process makes a Kafka producer.

Every record we produce must survive a broker's failover and never be written twice by a
retry, so every producer waits for all in-sync replicas and is idempotent; what differs
between producers (how long to gather a batch, how large a record may be) is named by the
caller. The bootstrap servers come from the settings, never from a literal.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from vigia.settings import Settings

IMAGE_RECORD_BYTES = 4 * 1024 * 1024
"""Records that carry an image tile (tile jobs) may be this large; the topics are created to match."""


def producer(
    settings: Settings,
    *,
    linger_ms: int = 0,
    max_request_size: int = 1024 * 1024,
    max_batch_size: int = 16 * 1024,
    request_timeout_ms: int = 40_000,
) -> AIOKafkaProducer:
    """A durable producer (acks from all in-sync replicas, idempotent), not yet started."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_request_size=max_request_size,
        max_batch_size=max_batch_size,
        request_timeout_ms=request_timeout_ms,
    )
