"""The inference worker's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

TILES = Counter("vigia_inference_tiles_total", "Tile jobs handled, by outcome", ["outcome"])
EMBEDDINGS = Counter("vigia_inference_embeddings_total", "Sensor-tile embeddings published")
BATCH_SECONDS = Histogram(
    "vigia_inference_batch_seconds",
    "One batch: decode, model, database and publishing",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
