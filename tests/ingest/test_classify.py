from __future__ import annotations

import base64

from ingest.bridge import Inbound, classify, subscription
from ingest.payload import SensorInfo
from ingest.registry import SensorRegistry
from vigia.contracts import Metric

NOW = 1_772_463_600.0
REGISTRY = SensorRegistry(
    lambda: {"ate-power-01": SensorInfo("ate-power-01", "ate", "17/1/2", frozenset({Metric.MAINS_VOLTAGE}))},
    refresh_seconds=60,
)
TOPIC = "vigia/ate/ate-power-01/telemetry"


def test_good_message_becomes_readings_and_no_dead_letter() -> None:
    outcome = classify(Inbound(TOPIC, b'{"ts": 1772463600, "mains_voltage": 221}', 1, 1, NOW), REGISTRY)
    assert [r.value for r in outcome.readings] == [221.0]
    assert outcome.dead_letter is None


def test_bad_message_becomes_a_dead_letter_with_the_original_bytes() -> None:
    raw = b'{"ts": 1772463600, "mains_voltage": "high"}'
    outcome = classify(Inbound(TOPIC, raw, 2, 1, NOW), REGISTRY)
    assert outcome.readings == []
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason == "bad_value"
    assert base64.b64decode(outcome.dead_letter.payload_b64) == raw
    assert outcome.dead_letter.mqtt_topic == TOPIC
    assert outcome.reasons == ["bad_value"]


def test_partly_bad_message_keeps_its_good_readings_and_says_so() -> None:
    raw = b'[{"n": "mains_voltage", "v": 220}, {"n": "mains_voltage", "v": 9000, "t": -1}]'
    outcome = classify(Inbound(TOPIC, raw, 3, 1, NOW), REGISTRY)
    assert [r.value for r in outcome.readings] == [220.0]
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason == "out_of_range"
    assert outcome.dead_letter.accepted_readings == 1


def test_message_on_a_foreign_topic_is_dead_lettered_not_raised() -> None:
    outcome = classify(Inbound("vigia/ate", b"{}", 4, 1, NOW), REGISTRY)
    assert outcome.dead_letter is not None
    assert outcome.dead_letter.reason == "bad_topic"


def test_shared_subscription_names_the_group() -> None:
    assert subscription("") == "vigia/+/+/telemetry"
    assert subscription("bridges") == "$share/bridges/vigia/+/+/telemetry"
