"""The Faust application: readings in, one-minute windows joined with tile assessments out.

The agents only decode, call the pure window functions and hand results to the sink; the
arithmetic lives in `windows.py`. The app is built by `create_app` from settings, never at
import time, so tests and tools can build it with their own settings.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import faust
from pydantic import ValidationError

from vigia import topics
from vigia.contracts import HousingContext, Reading, TileEmbedding
from vigia.heartbeat import beat, heartbeat_path
from vigia.settings import Settings
from vigia.stream.sink import Sink
from vigia.stream.windows import AggregateState, fold, to_aggregate, tumbling_start

log = logging.getLogger("vigia.stream")
WINDOW_RETENTION = timedelta(minutes=15)


def housing_for(tiles: Any, tile_id: str) -> HousingContext:
    """The tile's latest assessment, or 'unassessed': a reading is never dropped for want of one."""
    document = tiles.get(tile_id)
    if not document:
        return HousingContext()
    try:
        return HousingContext.from_embedding(TileEmbedding.model_validate(document))
    except ValidationError:
        log.warning("tile %s has an unreadable assessment; treating it as unassessed", tile_id)
        return HousingContext()


def current_window(windows: Any, key: str) -> AggregateState | None:
    """The state of the event's window for `key`, or None when this is its first reading."""
    try:
        state: AggregateState = windows[key].current()
    except KeyError:
        return None
    return state


def create_app(settings: Settings) -> faust.App:
    app = faust.App(
        "vigia-stream",
        broker=settings.kafka_broker_url,
        store="memory://",
        topic_partitions=settings.kafka_partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        web_enabled=False,
        table_cleanup_interval=30.0,
    )
    size = float(settings.window_seconds)
    sink = Sink(settings)

    readings_topic = app.topic(
        topics.READINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    embeddings_topic = app.topic(
        topics.TILE_EMBEDDINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )

    # Keyed "sensor|metric"; the window is chosen by each event's Kafka timestamp, which the
    # bridge sets to the reading's event time.
    windows = (
        app.Table("sensor-windows", default=None, key_type=str, value_type=None)
        .tumbling(size, expires=WINDOW_RETENTION)
        .relative_to_stream()
    )
    # Every worker needs every tile: readings are keyed by sensor, assessments by tile.
    tiles = app.GlobalTable("tile-assessments", default=None, key_type=str, value_type=None)

    @app.agent(embeddings_topic)
    async def keep_latest_assessment(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            try:
                embedding = TileEmbedding.model_validate_json(value)
            except ValidationError as error:
                log.warning("skipping unreadable tile embedding: %s", error.errors()[:1])
                continue
            tiles[embedding.tile_id] = embedding.model_dump(mode="json")

    @app.agent(readings_topic)
    async def aggregate_readings(stream: faust.StreamT[bytes]) -> None:
        async for value in stream:
            try:
                reading = Reading.model_validate_json(value)
            except ValidationError as error:
                log.warning("skipping unreadable reading: %s", error.errors()[:1])
                continue
            key = f"{reading.sensor_id}|{reading.metric.value}"
            ts = reading.event_time.timestamp()
            state: AggregateState = fold(current_window(windows, key), reading.value, ts)
            windows[key] = state
            aggregate = to_aggregate(
                reading,
                state,
                window_start=tumbling_start(ts, size),
                size=size,
                housing=housing_for(tiles, reading.tile_id),
            )
            await sink.write(reading, aggregate)

    @app.timer(interval=2.0)  # type: ignore[untyped-decorator]  # faust's timer decorator is untyped
    async def heartbeat() -> None:
        beat(heartbeat_path(settings.state_dir, "stream"))

    return app


def run(settings: Settings) -> None:
    app = create_app(settings)
    worker = faust.Worker(app, loglevel="INFO", quiet=True)
    worker.execute_from_commandline()
