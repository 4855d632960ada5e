"""One reading from an MQTT sensor all the way to the API, on the real stack."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.schemas import SensorLatest
from inference import embeddings
from ops import control
from tests.integration.helpers import (
    api_headers,
    dead_letters_for,
    eventually,
    publish,
    query,
    register,
)
from vigia.contracts import TileEmbedding
from vigia.settings import Settings
from vigia.tiles import tile_id_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ASSESSED = ("it-flood-01", -11.9700, -76.9900)
UNASSESSED = ("it-water-01", -11.9900, -77.0200)


def test_every_component_runs_and_answers(stack: Settings) -> None:
    rows = {row.name: row for row in control.status(stack)}
    assert set(rows) == set(control.ALL)
    for row in rows.values():
        assert row.state == "RUNNING", row
        assert row.health is not None, row
        assert row.health.healthy, row
    assert rows["kafka"].version is not None
    assert rows["kafka"].version.startswith("Apache Kafka 4.")
    assert rows["timescaledb"].version is not None
    assert "TimescaleDB 2." in rows["timescaledb"].version


def test_up_again_changes_nothing(stack: Settings) -> None:
    before = {row.name: row.pid for row in control.status(stack)}
    lines: list[str] = []
    control.up(stack, report=lines.append)
    after = {row.name: row.pid for row in control.status(stack)}
    assert before == after
    assert lines == [f"{name}: already running" for name in control.ALL]


def test_schema_has_timescaledb_and_hypertables(stack: Settings) -> None:
    assert query(stack, "SELECT extname FROM pg_extension WHERE extname = 'timescaledb'") == [("timescaledb",)]
    hypertables = {row[0] for row in query(stack, "SELECT hypertable_name FROM timescaledb_information.hypertables")}
    assert {"readings", "readings_1m"} <= hypertables


def test_reading_travels_from_mqtt_to_the_database_and_the_api(stack: Settings) -> None:
    sensor_id, lat, lon = UNASSESSED
    register(stack, sensor_id, lat, lon, "water", ["water_pressure", "tank_level"])
    event_time = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    publish(stack, sensor_id, {"ts": event_time.isoformat(), "water_pressure": 0.137, "tank_level": 42.5})

    stored = eventually(
        lambda: query(
            stack,
            "SELECT metric, value, unit, time FROM readings WHERE sensor_id = %(s)s ORDER BY metric",
            {"s": sensor_id},
        ),
        what="the reading in TimescaleDB",
    )
    assert stored == [("tank_level", 42.5, "%", event_time), ("water_pressure", 0.137, "bar", event_time)]

    window = eventually(
        lambda: query(
            stack,
            "SELECT bucket, count, mean, land_use_class, embedding_id FROM readings_1m"
            " WHERE sensor_id = %(s)s AND metric = 'water_pressure'",
            {"s": sensor_id},
        ),
        what="the one-minute aggregate",
    )
    bucket = event_time.replace(second=0)
    assert window == [(bucket, 1, 0.137, "unassessed", None)]

    url = f"http://{stack.api_host}:{stack.api_port}/sensors/{sensor_id}/latest"
    response = httpx.get(url, headers=api_headers(stack, "viewer"), timeout=5)
    assert response.status_code == 200
    body = response.json()
    # Written without the models, so checked against them: the same fields, types and spelling.
    assert SensorLatest.model_validate_json(response.content).model_dump(mode="json") == body
    assert {r["metric"]: r["value"] for r in body["readings"]} == {"water_pressure": 0.137, "tank_level": 42.5}
    assert body["tile_id"] == tile_id_for(lat, lon, stack.tile_zoom)
    assert {w["metric"]: w["land_use_class"] for w in body["windows"]}["water_pressure"] == "unassessed"


def test_redelivered_reading_is_stored_once(stack: Settings) -> None:
    sensor_id, lat, lon = UNASSESSED
    register(stack, sensor_id, lat, lon, "water", ["water_pressure", "tank_level"])
    event_time = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    body = {"ts": event_time.isoformat(), "water_pressure": 1.25}
    publish(stack, sensor_id, body)
    publish(stack, sensor_id, body)
    marker_time = event_time + timedelta(seconds=1)
    publish(stack, sensor_id, {"ts": marker_time.isoformat(), "water_pressure": 1.26})
    eventually(
        lambda: query(
            stack, "SELECT 1 FROM readings WHERE sensor_id = %(s)s AND time = %(t)s", {"s": sensor_id, "t": marker_time}
        ),
        what="the marker reading",
    )
    rows = query(
        stack,
        "SELECT count(*) FROM readings WHERE sensor_id = %(s)s AND time = %(t)s",
        {"s": sensor_id, "t": event_time},
    )
    assert rows == [(1,)]


def test_window_is_joined_with_the_tile_assessment(stack: Settings) -> None:
    sensor_id, lat, lon = ASSESSED
    tile = register(stack, sensor_id, lat, lon, "flood", ["flood_level"])
    embedding = TileEmbedding(
        tile_id=tile,
        model_version="it-1",
        computed_at=datetime(2026, 3, 1, tzinfo=UTC),
        land_use_class="denseresidential",
        housing_score=0.87,
        embedding=[0.5] * 8,
    )
    asyncio.run(embeddings.publish(stack, [embedding]))

    def joined() -> list[tuple[Any, ...]] | None:
        # The assessment reaches the worker's table asynchronously: keep sending readings
        # until a window records the join.
        publish(stack, sensor_id, {"ts": datetime.now(UTC).isoformat(), "flood_level": 0.12})
        return (
            query(
                stack,
                "SELECT embedding_id, model_version, land_use_class, housing_score FROM readings_1m"
                " WHERE sensor_id = %(s)s AND embedding_id IS NOT NULL",
                {"s": sensor_id},
            )
            or None
        )

    rows = eventually(joined, timeout=60, every=1, what="a window joined with the tile embedding")
    assert rows[0] == (embedding.embedding_id, "it-1", "denseresidential", 0.87)


def test_malformed_payload_goes_to_the_dead_letter_topic(stack: Settings) -> None:
    sensor_id, lat, lon = UNASSESSED
    register(stack, sensor_id, lat, lon, "water", ["water_pressure", "tank_level"])
    raw = b'{"ts": "2026-03-02T15:00:00Z", "water_pressure": NaN}'
    publish(stack, sensor_id, raw)
    [letter] = asyncio.run(dead_letters_for(stack, raw))
    assert letter.reason == "not_finite"
    assert letter.mqtt_topic == f"vigia/integration/{sensor_id}/telemetry"


def test_unknown_sensor_is_dead_lettered_not_stored(stack: Settings) -> None:
    raw = json.dumps({"ts": datetime.now(UTC).isoformat(), "flood_level": 0.5}).encode()
    publish(stack, "it-ghost-01", raw)
    [letter] = asyncio.run(dead_letters_for(stack, raw))
    assert letter.reason == "unregistered"
    assert query(stack, "SELECT count(*) FROM readings WHERE sensor_id = 'it-ghost-01'") == [(0,)]
