from __future__ import annotations

import base64
from datetime import UTC, datetime

from vigia.contracts import DeadLetter, Metric
from vigia.ingest.bridge import Inbound, classify
from vigia.ingest.payload import SensorInfo
from vigia.ingest.registry import SensorRegistry

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
REGISTRY = SensorRegistry(
    lambda: {"ate-power-01": SensorInfo("ate-power-01", "ate", "17/1/2", frozenset({Metric.MAINS_VOLTAGE}))},
    refresh_seconds=60,
)


def test_good_message_becomes_readings() -> None:
    inbound = Inbound(
        "vigia/ate/ate-power-01/telemetry", b'{"ts": "2026-03-02T15:00:00Z", "mains_voltage": 221}', 1, 1, NOW
    )
    outcome = classify(inbound, REGISTRY)
    assert isinstance(outcome, list)
    assert [r.value for r in outcome] == [221.0]


def test_bad_message_becomes_a_dead_letter_with_the_original_bytes() -> None:
    raw = b'{"ts": "2026-03-02T15:00:00Z", "mains_voltage": "high"}'
    outcome = classify(Inbound("vigia/ate/ate-power-01/telemetry", raw, 2, 1, NOW), REGISTRY)
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason == "bad_value"
    assert base64.b64decode(outcome.payload_b64) == raw
    assert outcome.mqtt_topic == "vigia/ate/ate-power-01/telemetry"


def test_message_on_a_foreign_topic_is_dead_lettered_not_raised() -> None:
    outcome = classify(Inbound("vigia/ate", b"{}", 3, 1, NOW), REGISTRY)
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason == "bad_topic"
