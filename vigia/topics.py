"""Topic names and their layout, MQTT and Kafka. Every producer and consumer takes names from here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vigia.contracts import DISTRICT_PATTERN, SENSOR_ID_PATTERN

# MQTT: each sensor publishes to its own topic, and may publish nowhere else.
TELEMETRY_SUBSCRIPTION = "vigia/+/+/telemetry"
TELEMETRY_TEMPLATE = "vigia/{district}/{sensor_id}/telemetry"
TELEMETRY_PATTERN = re.compile(
    f"^vigia/(?P<district>{DISTRICT_PATTERN[1:-1]})/(?P<sensor>{SENSOR_ID_PATTERN[1:-1]})/telemetry$"
)


def telemetry_topic(district: str, sensor_id: str) -> str:
    """The one MQTT topic a sensor publishes its readings to."""
    return TELEMETRY_TEMPLATE.format(district=district, sensor_id=sensor_id)


READINGS = "vigia.readings"
READINGS_DEAD_LETTER = "vigia.readings.dead-letter"
TILE_EMBEDDINGS = "vigia.tile-embeddings"
ALERTS = "vigia.alerts"
TILE_JOBS = "vigia.tile-jobs"
TILE_JOBS_DEAD_LETTER = "vigia.tile-jobs.dead-letter"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    retention_ms: int | None = None
    configs: dict[str, str] = field(default_factory=dict)

    def kafka_configs(self) -> dict[str, str]:
        configs = {"cleanup.policy": "compact" if self.compacted else "delete", **self.configs}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


WEEK_MS = 7 * 24 * 3600 * 1000

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(READINGS, retention_ms=WEEK_MS),
    TopicSpec(READINGS_DEAD_LETTER, retention_ms=4 * WEEK_MS),
    # Compaction keeps the newest embedding per tile for as long as the tile exists.
    TopicSpec(TILE_EMBEDDINGS, compacted=True, configs={"min.cleanable.dirty.ratio": "0.1"}),
    TopicSpec(ALERTS, retention_ms=4 * WEEK_MS),
    # Imagery waiting for the model: a scene's tiles are small PNGs, well under Kafka's 1 MB default.
    TopicSpec(TILE_JOBS, retention_ms=WEEK_MS),
    TopicSpec(TILE_JOBS_DEAD_LETTER, retention_ms=4 * WEEK_MS),
)
