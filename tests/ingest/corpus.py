"""Bad payloads every bridge must dead-letter, each with the reason it must give.

Every payload is distinct, so a dead letter can be matched to its case by its bytes.
Placeholders: {district} and {sensor} are a registered sensor's; {other} is another
registered sensor of the same district (not a gateway). Shared by the parser's unit tests
and the bridge's integration test, so both hold the same line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import cbor2

from ingest.payload import MAX_PAYLOAD_BYTES

OWN_TOPIC = "vigia/{district}/{sensor}/telemetry"


@dataclass(frozen=True)
class BadCase:
    name: str
    payload: bytes
    reason: str
    topic: str = OWN_TOPIC

    def topic_for(self, district: str, sensor: str) -> str:
        return self.topic.format(district=district, sensor=sensor)

    def payload_for(self, other: str) -> bytes:
        return self.payload.replace(b"{other}", other.encode())


def _j(document: object) -> bytes:
    return json.dumps(document).encode()


def _c(document: object) -> bytes:
    """SenML in CBOR, labels as RFC 8428 section 6 numbers them."""
    return cbor2.dumps(document)


def bad_cases(now: datetime) -> list[BadCase]:
    ts = now.isoformat()
    return [
        BadCase("invalid utf-8", b"\xff\xfe not utf-8", "bad_utf8"),
        BadCase("truncated json", b'{"ts": 1, "water_pressure"', "bad_json"),
        BadCase("empty payload", b"", "bad_json"),
        BadCase("NaN", f'{{"ts": "{ts}", "water_pressure": NaN}}'.encode(), "not_finite"),
        BadCase("Infinity", f'{{"ts": "{ts}", "water_pressure": -Infinity}}'.encode(), "not_finite"),
        BadCase("json string", _j("hello"), "bad_shape"),
        BadCase("json number", _j(42), "bad_shape"),
        BadCase("no timestamp", _j({"water_pressure": 1.0}), "bad_time"),
        BadCase("words for time", _j({"ts": "yesterday", "water_pressure": 1.0}), "bad_time"),
        BadCase("naive time", _j({"ts": "2026-03-02T10:00:00", "water_pressure": 1.0}), "bad_time"),
        BadCase("boolean time", _j({"ts": True, "water_pressure": 1.0}), "bad_time"),
        BadCase("absurd epoch", _j({"ts": 1e30, "water_pressure": 1.0}), "bad_time"),
        BadCase("no values", _j({"ts": ts}), "bad_shape"),
        BadCase("values not an object", _j({"ts": ts, "values": [1, 2]}), "bad_shape"),
        BadCase("unknown metric", _j({"ts": ts, "radiation": 1.0}), "unknown_metric"),
        BadCase("number as string", _j({"ts": ts, "water_pressure": "1.2"}), "bad_value"),
        BadCase("boolean value", _j({"ts": ts, "water_pressure": True}), "bad_value"),
        BadCase("null value", _j({"ts": ts, "water_pressure": None}), "bad_value"),
        BadCase("negative pressure", _j({"ts": ts, "water_pressure": -0.5}), "out_of_range"),
        BadCase("kPa sent as bar", _j({"ts": ts, "water_pressure": 140}), "out_of_range"),
        BadCase("tank over full", _j({"ts": ts, "tank_level": 250}), "out_of_range"),
        BadCase("clock an hour ahead", _j({"ts": (now + timedelta(hours=1)).isoformat(), "flow": 1}), "future_time"),
        BadCase("a month old", _j({"ts": (now - timedelta(days=30)).isoformat(), "flow": 1}), "stale_time"),
        BadCase("oversized", _j({"ts": ts, "flow": 1, "pad": "x" * MAX_PAYLOAD_BYTES}), "too_large"),
        BadCase("empty gateway list", _j({"readings": []}), "bad_shape"),
        BadCase("gateway item without sensor", _j({"readings": [{"ts": ts, "flow": 1}]}), "bad_shape"),
        BadCase("empty SenML pack", _j([]), "bad_senml"),
        BadCase("SenML of numbers", _j([1, 2]), "bad_senml"),
        BadCase("SenML without value", _j([{"n": "water_pressure"}]), "bad_senml"),
        BadCase("SenML name with space", _j([{"n": "water pressure", "v": 1}]), "bad_senml"),
        BadCase("SenML two values", _j([{"n": "water_pressure", "v": 1, "vs": "x"}]), "bad_senml"),
        BadCase("SenML future version", _j([{"bver": 11, "n": "water_pressure", "v": 1}]), "bad_senml"),
        BadCase("SenML must-understand", _j([{"n": "water_pressure", "v": 1, "crit_": 1}]), "bad_senml"),
        BadCase("SenML string value", _j([{"n": "water_pressure", "vs": "high"}]), "bad_value"),
        BadCase("SenML unknown unit", _j([{"n": "water_pressure", "u": "inH2O", "v": 1}]), "unknown_unit"),
        BadCase("SenML out of range after conversion", _j([{"n": "water_pressure", "u": "kPa", "v": 9000}]),
                "out_of_range"),
        BadCase("CBOR cut short", _c([{0: "water_pressure", 2: 1.5}])[:-3], "bad_cbor"),
        BadCase("CBOR pack of numbers", _c([1, 2, 3]), "bad_senml"),
        BadCase("CBOR with an unknown label", _c([{0: "water_pressure", 2: 1.0, 42: 1}]), "bad_senml"),
        BadCase("CBOR NaN", _c([{0: "water_pressure", 2: float("nan")}]), "not_finite"),
        BadCase("CBOR unknown metric", _c([{0: "colour", 2: 1.0}]), "unknown_metric"),
        BadCase("CBOR out of range after conversion", _c([{0: "water_pressure", 1: "kPa", 2: 9000.0}]),
                "out_of_range"),
        BadCase("carrying another sensor without being a gateway", b'[{"n": "{other}:flow", "v": 1}]', "not_gateway"),
        BadCase("topic with capitals", _j({"ts": ts, "flow": 2}), "bad_topic", "vigia/Comas/{sensor}/telemetry"),
        BadCase("unregistered sensor", _j({"ts": ts, "flow": 3}), "unregistered",
                "vigia/{district}/ghost-99/telemetry"),
        BadCase("registered sensor, wrong district", _j({"ts": ts, "flow": 4}), "wrong_district",
                "vigia/elsewhere/{sensor}/telemetry"),
    ]  # fmt: skip
