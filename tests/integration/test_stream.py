"""The stream worker in the real stack: a water outage under precarious roofs, from MQTT to an alert."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pytest

from simulate.simulator import Publisher
from tests.integration.helpers import (
    all_healthy,
    api_headers,
    assess_tile_as_precarious,
    eventually,
    query,
    read_topic,
    register,
)
from vigia import kafka, topics
from vigia.contracts import Alert, reading_id
from vigia.settings import Settings

pytestmark = pytest.mark.integration

OUTAGE = ("it-water-outage", -11.9620, -76.9850)
NEIGHBOUR = ("it-water-probe", -11.9620, -76.9851)  # the same sensor tile


def publish_minutes(stack: Settings, sensor_id: str, metric: str, start: datetime, values: list[float]) -> None:
    """One reading of `metric` a minute from `start`, over MQTT as the sensor would send them."""
    with Publisher(stack, client_id=f"it-{sensor_id}") as publisher:
        for minute, value in enumerate(values):
            body = {"ts": (start + timedelta(minutes=minute)).isoformat(), metric: value}
            topic = f"vigia/integration/{sensor_id}/telemetry"
            publisher.publish(topic, json.dumps(body).encode()).wait_for_publish(10)


def test_a_water_outage_under_precarious_roofs_opens_a_critical_alert_and_resolves(stack: Settings) -> None:
    sensor_id, lat, lon = OUTAGE
    tile = register(stack, sensor_id, lat, lon, "water", ["water_pressure"])
    assess_tile_as_precarious(stack, tile, NEIGHBOUR)

    start = (datetime.now(UTC) - timedelta(hours=3)).replace(second=0, microsecond=0)
    supply = [1.5] * 5 + [0.0] * 35 + [1.4] * 15  # a morning's supply, the taps dry, the water back
    publish_minutes(stack, sensor_id, "water_pressure", start, supply)

    sql = (
        "SELECT severity, state, opened_at, resolved_at, land_use_class, title_es FROM alerts"
        " WHERE sensor_id = %(s)s AND rule = 'water-outage'"
    )
    rows = eventually(
        lambda: [r for r in query(stack, sql, {"s": sensor_id}) if r[1] == "resolved"] or None,
        timeout=90,
        what="the outage alert, resolved",
    )
    assert len(query(stack, sql, {"s": sensor_id})) == 1  # one alert for one outage
    severity, _, opened_at, resolved_at, land_use, title = rows[0]
    assert severity == "critical"
    assert opened_at == start + timedelta(minutes=5)  # from the first dry reading
    assert resolved_at == start + timedelta(minutes=40)  # from the first wet one
    assert land_use == "mobilehomepark"
    assert title == "Sin agua"
    windows = query(stack, "SELECT sum(count) FROM readings_1m WHERE sensor_id = %(s)s", {"s": sensor_id})
    assert windows == [(len(supply),)]

    def on_topic() -> list[Alert] | None:
        alerts = [Alert.model_validate_json(r.value) for r in read_topic(stack, topics.ALERTS)]
        mine = [a for a in alerts if a.sensor_id == sensor_id and a.rule == "water-outage"]
        return mine if {a.change for a in mine} >= {"opened", "resolved"} else None

    changes = eventually(on_topic, timeout=30, what="the alert's changes on the alerts topic")
    # The topic is fed at least once from the outbox: a change is its alert, kind and time.
    distinct = list({(a.alert_id, a.change, a.changed_at): a for a in changes}.values())
    assert [a.change for a in distinct if a.change != "updated"] == ["opened", "resolved"], [
        (a.change, a.alert_id, a.opened_at, a.changed_at) for a in changes
    ]
    assert changes[0].housing.land_use_class == "mobilehomepark"


def produce_readings(stack: Settings, prefix: str, sensors: int, per_sensor: int) -> int:
    """Readings straight onto the readings topic, as the bridge writes them; returns how many."""

    from vigia.contracts import Metric, Reading
    from vigia.reading_records import encode

    start = (datetime.now(UTC) - timedelta(days=2)).replace(second=0, microsecond=0)

    async def send() -> None:
        producer = kafka.producer(stack, linger_ms=20)
        await producer.start()
        try:
            for i in range(per_sensor):
                for s in range(sensors):
                    reading = Reading(
                        sensor_id=f"{prefix}-{s:02d}",
                        district="integration",
                        tile_id="17/2/2",
                        metric=Metric.TILT,
                        value=1.0 + i / 1000,
                        unit="deg",
                        event_time=start + timedelta(seconds=10 * i),
                        received_at=start,
                    )
                    await producer.send(topics.READINGS, encode([reading]), key=reading.sensor_id.encode())
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(send())
    return sensors * per_sensor


def test_a_worker_killed_mid_stream_counts_every_reading_exactly_once(stack: Settings) -> None:
    from ops import control

    count = "SELECT count(*) FROM readings WHERE sensor_id LIKE 'it-kill-%%'"
    total = produce_readings(stack, "it-kill", sensors=40, per_sensor=600)
    eventually(lambda: query(stack, count)[0][0] > 2000 or None, timeout=60, every=0.05, what="the stream under way")
    assert control.send_signal(stack, "stream", "KILL")  # supervisord restarts it, as after a crash
    stored_at_kill = query(stack, count)[0][0]

    try:
        eventually(lambda: query(stack, count)[0][0] == total or None, timeout=180, what="every reading stored")
    except AssertionError as error:  # say where the readings stopped: the worker's log and the group's lag
        from ops.kafka_admin import consumer_lag

        lag = asyncio.run(consumer_lag(stack.kafka_bootstrap, "vigia-stream", topics.READINGS))
        log = (stack.log_dir / "stream.log").read_text().splitlines()[-40:]
        raise AssertionError(
            f"{error}; stored {query(stack, count)[0][0]} of {total}; lag {lag}; stream log:\n" + "\n".join(log)
        ) from None
    windows = "SELECT sum(count), count(*) FROM readings_1m WHERE sensor_id LIKE 'it-kill-%%'"
    summed = eventually(lambda: r if (r := query(stack, windows)[0])[0] == total else None, what="windows")
    assert summed[0] == total  # each reading counted once in its one-minute window, none twice
    assert summed[1] == 40 * 100  # 600 readings 10 s apart: 100 minutes per sensor
    assert stored_at_kill < total  # the kill did land mid-stream


def commit_group_at_the_end(stack: Settings, group: str) -> dict[int, int]:
    """Commit `group`'s offsets at the end of the readings topic, as a commit running past the rows would."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def commit() -> dict[int, int]:
        consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [TopicPartition(topics.READINGS, p) for p in range(stack.kafka_partitions)]
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            await consumer.commit(dict(ends))
            return {tp.partition: offset for tp, offset in ends.items()}
        finally:
            await consumer.stop()

    return asyncio.run(commit())


def test_a_kafka_commit_past_the_stored_rows_is_not_believed(stack: Settings) -> None:
    from ops import control
    from ops.supervisor import Supervisor

    count = "SELECT count(*) FROM readings WHERE sensor_id LIKE 'it-ahead-%%'"
    warm_up = produce_readings(stack, "it-warm", sensors=20, per_sensor=5)
    warm = "SELECT count(*) FROM readings WHERE sensor_id LIKE 'it-warm-%%'"
    eventually(lambda: query(stack, warm)[0][0] == warm_up or None, timeout=60, what="the warm-up stored")
    stored = query(stack, "SELECT count(*) FROM stream_offsets WHERE consumer_group = 'vigia-stream'")
    assert stored == [(stack.kafka_partitions,)]  # every partition's place is in the database

    Supervisor(stack.state_dir).stop("stream")
    total = produce_readings(stack, "it-ahead", sensors=20, per_sensor=50)
    ends = commit_group_at_the_end(stack, "vigia-stream")  # Kafka now says all of it was done
    control.up(stack, ["stream"], report=lambda line: None)

    eventually(lambda: query(stack, count)[0][0] == total or None, timeout=90, what="every reading stored")
    windows = "SELECT sum(count) FROM readings_1m WHERE sensor_id LIKE 'it-ahead-%%'"
    assert eventually(lambda: query(stack, windows)[0][0] == total or None, what="every reading in its window")
    places = dict(
        query(stack, "SELECT partition, next_offset FROM stream_offsets WHERE consumer_group = 'vigia-stream'")
    )
    assert all(places[p] >= end for p, end in ends.items())


def test_readings_wait_out_a_database_stop_and_none_is_lost(stack: Settings) -> None:
    import threading
    import time

    from ops import control
    from ops.supervisor import Supervisor

    count = "SELECT count(*) FROM readings WHERE sensor_id LIKE 'it-dbstop-%%'"
    produced: list[int] = []
    sender = threading.Thread(target=lambda: produced.append(produce_readings(stack, "it-dbstop", 20, 600)))
    sender.start()
    eventually(lambda: query(stack, count)[0][0] > 500 or None, timeout=60, every=0.05, what="the stream under way")
    Supervisor(stack.state_dir).stop("timescaledb")
    time.sleep(30)
    control.up(stack, ["timescaledb"], report=lambda line: None)
    sender.join()
    total = produced[0]

    eventually(lambda: query(stack, count)[0][0] == total or None, timeout=120, what="every reading stored")
    windows = "SELECT sum(count) FROM readings_1m WHERE sensor_id LIKE 'it-dbstop-%%'"
    assert eventually(lambda: query(stack, windows)[0][0] == total or None, what="every reading in its window")

    services = ["stream", "bridge", "api", "inference"]
    eventually(lambda: all_healthy(stack, services), timeout=60, what="every service healthy again")


def test_the_worker_reports_its_figures_to_prometheus(stack: Settings) -> None:
    import httpx

    def scraped() -> str | None:
        text = httpx.get(f"http://127.0.0.1:{stack.stream_metrics_port}/metrics", timeout=5).text
        return text if "vigia_stream_consumer_lag{" in text else None  # the lag gauge fills every 10 s

    text = eventually(scraped, timeout=40, what="the stream's metrics with consumer lag")
    for name in ("vigia_stream_readings_total", "vigia_stream_sink_seconds_bucket", "vigia_stream_window_rows_total"):
        assert name in text


HAND = ("it-water-hand", -11.9700, -76.9950)


def test_an_alert_resolved_by_hand_stays_resolved_until_the_water_stops_again(stack: Settings) -> None:
    sensor_id, lat, lon = HAND
    register(stack, sensor_id, lat, lon, "water", ["water_pressure"])
    start = (datetime.now(UTC) - timedelta(hours=4)).replace(second=0, microsecond=0)
    publish_minutes(stack, sensor_id, "water_pressure", start, [1.5] * 5 + [0.0] * 35)
    alerts = (
        "SELECT alert_id::text, state, opened_at, resolved_at FROM alerts WHERE sensor_id = %(s)s ORDER BY opened_at"
    )
    [(first, state, _, _)] = eventually(lambda: query(stack, alerts, {"s": sensor_id}), what="the outage alert")
    assert state == "open"

    resolved = httpx.post(
        f"http://{stack.api_host}:{stack.api_port}/alerts/{first}/resolve",
        json={"note": "cisterna enviada"}, headers=api_headers(stack), timeout=10,
    )  # fmt: skip
    assert resolved.status_code == 200, resolved.text
    # The taps stay dry a quarter of an hour more (an update was due), the water returns for
    # a quarter of an hour (a resolution was due), then stops again: a new outage.
    publish_minutes(
        stack, sensor_id, "water_pressure", start + timedelta(minutes=40), [0.0] * 15 + [1.4] * 15 + [0.0] * 35
    )

    def both() -> list[tuple[object, ...]] | None:
        found = query(stack, alerts, {"s": sensor_id})
        return found if len(found) == 2 else None

    rows = eventually(both, what="the second outage")
    (_, state, _, resolved_at), (second, second_state, second_opened, _) = rows
    assert (state, second_state) == ("resolved", "open")
    assert resolved_at is not None  # the person's resolution is kept, not overwritten
    assert second != first
    assert second_opened == start + timedelta(minutes=70)  # from the first dry reading of the new outage
    recorded = "SELECT change, detail FROM alert_events WHERE alert_id = %(a)s ORDER BY recorded_at, time"
    events = query(stack, recorded, {"a": first})
    changes = [change for change, _ in events]
    assert changes.count("resolved") == 1  # no second "resuelto" from the stream
    assert changes[-1] == "resolved"  # nothing after the person's resolution: no "continúa"
    assert "cisterna enviada" in events[-1][1]


MOVED = ("it-power-moved", -11.9720, -76.9960)


def test_an_alert_another_worker_opened_is_resolved_here_and_not_opened_twice(stack: Settings) -> None:
    """As after a partition moved: the alert is in the database, this worker never saw the sensor."""
    sensor_id, lat, lon = MOVED
    tile = register(stack, sensor_id, lat, lon, "power", ["mains_voltage"])
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    opened_elsewhere = "6f1c0d7e-0000-4000-8000-000000000001"
    with psycopg.connect(stack.db_conninfo) as conn:
        conn.execute(
            """INSERT INTO alerts (alert_id, rule, sensor_id, metric, district, tile_id, severity, state, opened_at,
                                   updated_at, value, detail, title_es, title_en)
               VALUES (%(id)s, 'power-outage', %(s)s, 'mains_voltage', 'integration', %(t)s, 'warning', 'open',
                       %(at)s, %(at)s, 0.0, 'below 50.0 for 3 min', 'Corte de luz', 'Power cut')""",
            {"id": opened_elsewhere, "s": sensor_id, "t": tile, "at": start},
        )
    # The cut goes on here for ten minutes, then the power returns for good.
    publish_minutes(stack, sensor_id, "mains_voltage", start, [0.0] * 10 + [221.0] * 5)
    sql = "SELECT alert_id::text, state FROM alerts WHERE sensor_id = %(s)s"
    rows = eventually(
        lambda: (found := query(stack, sql, {"s": sensor_id})) and all(s == "resolved" for _, s in found) and found,
        timeout=90,
        what="the other worker's alert, resolved here",
    )
    assert rows == [(opened_elsewhere, "resolved")]  # resolved, not a second alert beside it
    stored = query(stack, "SELECT count(*) FROM readings WHERE sensor_id = %(s)s", {"s": sensor_id})
    assert stored == [(15,)]


DRY_BEFORE = ("it-water-moved", -11.9740, -76.9970)


def test_a_condition_that_began_on_another_worker_fires_here_on_time(stack: Settings) -> None:
    """Twenty dry minutes stored by the worker that held the partition, then ten here: thirty, an alert."""
    sensor_id, lat, lon = DRY_BEFORE
    tile = register(stack, sensor_id, lat, lon, "water", ["water_pressure"])
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    with psycopg.connect(stack.db_conninfo) as conn:
        for minute in range(20):
            at = start + timedelta(minutes=minute)
            conn.execute(
                """INSERT INTO readings (time, sensor_id, metric, value, unit, reading_id, received_at, district,
                                         tile_id)
                   VALUES (%(at)s, %(s)s, 'water_pressure', 0.0, 'bar', %(id)s, %(at)s, 'integration', %(t)s)""",
                {"at": at, "s": sensor_id, "id": reading_id(sensor_id, "water_pressure", at), "t": tile},
            )
    publish_minutes(stack, sensor_id, "water_pressure", start + timedelta(minutes=20), [0.0] * 12)
    sql = "SELECT opened_at, state FROM alerts WHERE sensor_id = %(s)s AND rule = 'water-outage'"
    rows = eventually(lambda: query(stack, sql, {"s": sensor_id}), timeout=90, what="the outage alert")
    assert rows == [(start, "open")]  # dated from the first dry minute, which this worker never saw
