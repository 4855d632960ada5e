"""The bridge's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECEIVED = Counter("vigia_bridge_messages_received", "MQTT messages received")
REDELIVERED = Counter("vigia_bridge_messages_redelivered", "MQTT messages the broker delivered again (dup flag)")
ACKED = Counter("vigia_bridge_messages_acked", "MQTT messages acknowledged after Kafka acknowledged them")
PRODUCED = Counter("vigia_bridge_readings_produced", "readings produced to Kafka")
DEAD_LETTERS = Counter("vigia_bridge_dead_letters", "problems sent to the dead-letter topic, by reason", ["reason"])
PRODUCE_LATENCY = Histogram(
    "vigia_bridge_batch_produce_seconds",
    "time from producing a batch to Kafka acknowledging all of it",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_DEPTH = Gauge("vigia_bridge_queue_depth", "MQTT messages received but not yet produced")


def serve(host: str, port: int) -> None:
    start_http_server(port, addr=host)
