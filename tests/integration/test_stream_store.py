"""The stream's SQL against the real TimescaleDB: replays add nothing, panes come back as stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from stream import repo
from stream.lane import Place
from stream.panes import sample_key
from stream.window_book import Folded, WindowBook
from vigia.contracts import HousingContext, Metric, Reading
from vigia.reading_records import FlatReading
from vigia.settings import Settings

pytestmark = pytest.mark.integration
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def readings(sensor: str, minutes: int, per_minute: int = 2, start: datetime = START) -> list[FlatReading]:
    return [
        FlatReading.of(
            Reading(
                sensor_id=sensor,
                district="store-it",
                tile_id="17/1/1",
                metric=Metric.WATER_PRESSURE,
                value=1.0 + i / 100,
                unit="bar",
                event_time=start + timedelta(seconds=i * 60 / per_minute),
                received_at=start,
            )
        )
        for i in range(minutes * per_minute)
    ]


def mains(sensor: str, volts: dict[int, float], minutes: range | list[int]) -> list[FlatReading]:
    """A power sensor's reading a minute from START, `volts[m]` at minute m."""
    return [
        FlatReading.of(Reading(
            sensor_id=sensor, district="store-it", tile_id="17/1/1", metric=Metric.MAINS_VOLTAGE,
            value=volts[m], unit="V", event_time=START + timedelta(minutes=m), received_at=START,
        ))
        for m in minutes
    ]  # fmt: skip


async def store_batch(settings: Settings, batch: list[FlatReading], book: WindowBook) -> set[str]:
    async with await psycopg.AsyncConnection.connect(settings.db_conninfo) as conn, conn.transaction():
        new = await repo.insert_readings(conn, batch)
        out = Folded()
        for r in batch:
            if r.reading_id in new:
                key = (r.sensor_id, r.metric)
                place = Place(r.district, r.tile_id)
                book.fold(key, place, value=r.value, ts=r.ts, sample_key=sample_key(r.reading_id),
                          reading_id=r.reading_id, out=out)  # fmt: skip
        await repo.upsert_panes(conn, [(row, HousingContext()) for row in book.pane_rows(out)])
        await repo.upsert_hopping(conn, [(row, HousingContext()) for row in book.hopping_rows(out)])
        return new


def test_a_replayed_batch_adds_no_row_and_counts_nothing_twice(stack: Settings) -> None:
    batch = readings("store-a", minutes=5)
    book = WindowBook(pane=60, window=900, lateness=120)
    first = asyncio.run(store_batch(stack, batch + batch[:3], book))  # duplicates inside the batch too
    assert first == {r.reading_id for r in batch}
    again = asyncio.run(store_batch(stack, batch, book))
    assert again == set()
    with psycopg.connect(stack.db_conninfo) as conn:
        stored = conn.execute("SELECT count(*) FROM readings WHERE sensor_id = 'store-a'").fetchone()
        counts = conn.execute("SELECT sum(count), count(*) FROM readings_1m WHERE sensor_id = 'store-a'").fetchone()
        hopping = conn.execute(
            "SELECT count, mean FROM readings_15m WHERE sensor_id = 'store-a' ORDER BY window_end DESC LIMIT 1"
        ).fetchone()
    assert stored == (10,)
    assert counts == (10, 5)
    assert hopping is not None
    assert hopping[0] == 10


def test_panes_load_back_as_they_were_stored(stack: Settings) -> None:
    book = WindowBook(pane=60, window=900, lateness=120)
    asyncio.run(store_batch(stack, readings("store-b", minutes=3, per_minute=4), book))
    key = ("store-b", "water_pressure")

    async def load() -> dict:  # type: ignore[type-arg]
        async with await psycopg.AsyncConnection.connect(stack.db_conninfo) as conn:
            return await repo.load_panes(conn, [key], since=START.timestamp())

    loaded, newest = asyncio.run(load())[key]
    assert loaded == book.panes(key)
    assert newest == book.newest(key)


def test_alert_changes_are_stored_once_published_from_the_outbox_and_reload_open(stack: Settings) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from vigia.contracts import AlertState, Severity

    precarious = HousingContext(housing_score=0.9, precarious_share=1.0, land_use_class="mobilehomepark")
    processor = Processor(load_rules(), pane=60, window=900, lateness=120)
    dry = [
        FlatReading.of(
            Reading(
                sensor_id="store-c",
                district="store-it",
                tile_id="17/1/1",
                metric=Metric.WATER_PRESSURE,
                value=0.0,
                unit="bar",
                event_time=START + timedelta(minutes=m),
                received_at=START,
            )
        )
        for m in range(35)
    ]
    fired = processor.process(dry, lambda tile: precarious, wall=0.0).fired
    assert [f.rule.id for f in fired] == ["water-outage"]

    async def scenario() -> tuple[list, list, list]:  # type: ignore[type-arg]
        async with await psycopg.AsyncConnection.connect(stack.db_conninfo, autocommit=True) as conn:
            # One transaction, so the stack's own stream worker cannot publish these changes first.
            async with conn.transaction():
                await repo.record_alerts(conn, fired)
                await repo.record_alerts(conn, fired)  # a replay of the same change adds nothing
                await conn.execute(
                    "UPDATE alerts SET state = 'acknowledged' WHERE alert_id = %s", (fired[0].change.alert.alert_id,)
                )
                await repo.record_alerts(conn, fired)  # the stream never reopens what people acknowledged
                pending = await repo.unpublished_alerts(conn)
                await repo.mark_published(conn, [key for key, _ in pending])
                after = await repo.unpublished_alerts(conn)
            reopened = await repo.load_open_alerts(conn, sensors=["store-c", "store-nobody"])
            return pending, after, reopened

    pending, after, reopened = asyncio.run(scenario())
    mine = [alert for _, alert in pending if alert.sensor_id == "store-c"]
    assert len(mine) == 1
    assert mine[0].severity is Severity.CRITICAL
    assert mine[0].state is AlertState.OPEN  # the state the change left it in; people acknowledged it later
    with psycopg.connect(stack.db_conninfo) as conn:
        row = conn.execute("SELECT state FROM alerts WHERE sensor_id = 'store-c'").fetchone()
    assert row == ("acknowledged",)
    assert mine[0].title_es == "Sin agua"
    assert mine[0].housing.land_use_class == "mobilehomepark"
    assert mine[0].changed_at == START
    assert [alert for _, alert in after if alert.sensor_id == "store-c"] == []
    assert [a.alert_id for a in reopened] == [fired[0].change.alert.alert_id]  # only the sensors asked for


def test_retention_drops_only_what_is_older_than_kept(stack: Settings) -> None:
    old = readings("store-old", minutes=1, start=START.replace(year=2025, month=1))
    now = datetime.now(UTC).replace(microsecond=0)
    recent = readings("store-recent", minutes=1, start=now - timedelta(hours=1, minutes=1))
    book = WindowBook(pane=60, window=900, lateness=120)
    asyncio.run(store_batch(stack, old, book))
    asyncio.run(store_batch(stack, recent, WindowBook(pane=60, window=900, lateness=120)))

    async def retain() -> int:
        async with await psycopg.AsyncConnection.connect(stack.db_conninfo, autocommit=True) as conn:
            assert not await repo.retention_policies_available(conn)  # the Apache-licensed build
            return await repo.apply_retention(conn, {"readings": 90, "readings_1m": 90})

    assert asyncio.run(retain()) >= 2  # the old readings' chunk and its windows' chunk
    with psycopg.connect(stack.db_conninfo) as conn:
        left = conn.execute(
            "SELECT sensor_id, count(*) FROM readings WHERE sensor_id LIKE 'store-%%' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert ("store-old", 2) not in left
    assert ("store-recent", 2) in left
    with pytest.raises(ValueError, match="no retention"):
        asyncio.run(repo.apply_retention(None, {"sensors": 1}))  # type: ignore[arg-type]


def test_the_sink_folds_a_record_delivered_twice_in_one_batch_once(stack: Settings) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    batch = readings("store-twice", minutes=2)

    async def write() -> int:
        sink = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120))
        try:
            outcome = await sink.write(batch + batch, lambda tile: HousingContext())
            again = await sink.write(batch, lambda tile: HousingContext())
            assert again.folded == 0
            return outcome.folded
        finally:
            await sink.close()

    assert asyncio.run(write()) == len(batch)
    with psycopg.connect(stack.db_conninfo) as conn:
        row = conn.execute("SELECT sum(count) FROM readings_1m WHERE sensor_id = 'store-twice'").fetchone()
    assert row == (len(batch),)


def test_the_sink_records_where_each_partition_resumes_with_the_rows(stack: Settings) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    batch = readings("store-offsets", minutes=2)

    async def write() -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
        sink = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120), group="it-offsets")
        other = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120), group="it-other")
        try:
            await sink.write(batch[:2], lambda tile: HousingContext(), {0: 11, 3: 40})
            first = await sink.stored_offsets()
            await sink.write(batch[2:], lambda tile: HousingContext(), {0: 9})  # a late batch moves it back
            return first, await sink.stored_offsets(), await other.stored_offsets()
        finally:
            await sink.close()
            await other.close()

    first, second, other = asyncio.run(write())
    assert first == {0: 11, 3: 40}
    assert second == {0: 9, 3: 40}
    assert other == {}  # each consumer group keeps its own place


def test_a_gateways_late_buffer_fills_the_windows_and_records_the_outage_it_held_once(stack: Settings) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    volts = {m: 0.0 if 70 <= m < 100 else 221.0 for m in range(130)}

    def power(minutes: range | list[int]) -> list[FlatReading]:
        return mains("store-gateway-power", volts, minutes)

    def sink() -> Sink:
        processor = Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600)
        return Sink(stack.db_conninfo, processor)

    async def write() -> tuple[int, int, int]:
        live, later = sink(), sink()  # the second: a worker that took the partition over
        try:
            await live.write(power(range(60)), lambda tile: HousingContext())
            await live.write(power(range(120, 130)), lambda tile: HousingContext())  # the link is back
            first = await live.write(power(range(60, 100)), lambda tile: HousingContext())  # the buffer, in two
            second = await later.write(power(range(100, 120)), lambda tile: HousingContext())
            again = await later.write(power(range(60, 120)), lambda tile: HousingContext())  # re-delivered
            return len(first.refolded), len(second.refolded), len(again.refolded)
        finally:
            await live.close()
            await later.close()

    assert asyncio.run(write()) == (40, 20, 0)
    with psycopg.connect(stack.db_conninfo) as conn:
        panes = conn.execute(
            "SELECT count(*), sum(count), min(min) FROM readings_1m WHERE sensor_id = 'store-gateway-power'"
        ).fetchone()
        window = conn.execute(
            """SELECT count, min FROM readings_15m WHERE sensor_id = 'store-gateway-power'
               AND window_end = %s""",
            (START + timedelta(minutes=80),),
        ).fetchone()
        late = conn.execute("SELECT count(*) FROM readings WHERE sensor_id = 'store-gateway-power' AND late").fetchone()
        alerts = conn.execute(
            """SELECT opened_at, resolved_at, state FROM alerts
               WHERE sensor_id = 'store-gateway-power' AND rule = 'power-outage'"""
        ).fetchall()
    assert panes == (130, 130, 0.0)
    assert window == (15, 0.0)  # minutes 65..79, whole again
    assert late == (0,)
    assert alerts == [(START + timedelta(minutes=70), START + timedelta(minutes=100), "resolved")]


def test_a_buffer_in_pieces_splits_the_cuts_a_gap_made_one_and_withdraws_what_it_refutes(stack: Settings) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    volts = {m: 0.0 if 40 <= m < 46 or m >= 60 else 221.0 for m in range(70)}

    def power(minutes: range) -> list[FlatReading]:
        return mains("store-pieces", volts, minutes)

    async def write() -> None:
        sink = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600))
        try:
            for minutes in (range(30), range(62, 66), range(30, 44), range(44, 62)):  # the link fails at 30
                await sink.write(power(minutes), lambda tile: HousingContext())
        finally:
            await sink.close()

    asyncio.run(write())
    with psycopg.connect(stack.db_conninfo) as conn:
        alerts = conn.execute(
            """SELECT rule, opened_at, resolved_at, state FROM alerts WHERE sensor_id = 'store-pieces'
               ORDER BY rule, opened_at"""
        ).fetchall()
        events = conn.execute(
            """SELECT a.rule, e.change FROM alert_events e JOIN alerts a USING (alert_id)
               WHERE a.sensor_id = 'store-pieces' AND e.change = 'withdrawn'"""
        ).fetchall()

    def at(minute: int) -> datetime:
        return START + timedelta(minutes=minute)

    assert [a for a in alerts if a[0] == "power-outage"] == [
        ("power-outage", at(40), at(46), "resolved"),
        ("power-outage", at(60), None, "open"),
    ]
    assert [(rule, state) for rule, _, _, state in alerts if rule == "low-voltage"] == [("low-voltage", "withdrawn")]
    assert events == [("low-voltage", "withdrawn")]


def test_a_gateway_silent_through_outages_gives_exactly_the_alerts_its_readings_owe(stack: Settings) -> None:
    """The cluster drill's district and gateway, shrunk to 80 sensors each reporting every 40 s of
    event time: power and water cuts before, during and across the gateway's silence, its buffer
    uploaded after fresh readings, all through the sink in small batches as a worker takes them."""
    from drills.cluster import district, gateway_of, owed
    from drills.schedule import MINUTE_MS, Owed, judge
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    t0 = datetime(2026, 4, 1, tzinfo=UTC)
    count = 60 * MINUTE_MS // 500
    d = district(80, 500, count)
    gateway = gateway_of(d)

    def reading(n: int) -> FlatReading:
        ((metric, value),) = d.values(n).items()
        return FlatReading.of(Reading(
            sensor_id=f"store-gw-{d.sensor_of(n):02d}", district="store-it", tile_id="17/1/1", metric=Metric(metric),
            value=value, unit="V" if metric == "mains_voltage" else "bar",
            event_time=t0 + timedelta(milliseconds=d.at_ms(n)), received_at=t0,
        ))  # fmt: skip

    async def feed() -> None:
        sink = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600))
        held: list[FlatReading] = []
        batch: list[FlatReading] = []
        try:
            for n in range(count):
                if gateway.holds(d.sensor_of(n), d.at_ms(n)):
                    held.append(reading(n))
                    continue
                if held and d.at_ms(n) >= gateway.upload_ms:  # after the fresh readings taken so far
                    for start in range(0, len(batch + held), 100):
                        await sink.write((batch + held)[start : start + 100], lambda tile: HousingContext())
                    batch, held = [], []
                batch.append(reading(n))
                if len(batch) >= 100:
                    await sink.write(batch, lambda tile: HousingContext())
                    batch = []
            await sink.write(batch, lambda tile: HousingContext())
        finally:
            await sink.close()

    asyncio.run(feed())
    with psycopg.connect(stack.db_conninfo) as conn:
        rows = conn.execute(
            "SELECT sensor_id, rule, opened_at, resolved_at FROM alerts WHERE sensor_id LIKE 'store-gw-%'"
            " AND rule IN ('power-outage', 'low-voltage', 'water-outage') AND state <> 'withdrawn'"
        ).fetchall()

    def ms(at: datetime) -> int:
        return round((at - t0).total_seconds() * 1000)

    stored = [Owed(int(s[-2:]), rule, ms(at), ms(end) if end else None) for s, rule, at, end in rows]
    expected = owed(d, count, None)  # the silence's offline alerts need the worker's clock: the drill has them
    assert len(expected) >= 100
    wrong = judge(expected, stored).wrong
    assert wrong == [], "\n".join(wrong)


def test_a_sensors_latest_reading_and_window_are_the_newest_stored_in_whatever_order_they_came(
    stack: Settings,
) -> None:
    from stream.processor import Processor
    from stream.rules import load_rules
    from stream.sink import Sink

    volts = {m: 200.0 + m for m in range(20)}

    async def write() -> None:
        sink = Sink(stack.db_conninfo, Processor(load_rules(), pane=60, window=900, lateness=120, horizon=48 * 3600))
        try:
            await sink.write(mains("store-latest", volts, range(15, 20)), lambda tile: HousingContext())
            await sink.write(mains("store-latest", volts, range(15)), lambda tile: HousingContext())  # a buffer
            # The newest minute sent again with another value: the stored reading stands, and so does its latest.
            await sink.write(mains("store-latest", {19: 0.0}, [19]), lambda tile: HousingContext())
        finally:
            await sink.close()

    asyncio.run(write())
    with psycopg.connect(stack.db_conninfo) as conn:
        latest = conn.execute(
            """SELECT metric, time, value, reading_id, bucket, count, last FROM sensor_latest
               WHERE sensor_id = 'store-latest'"""
        ).fetchall()
        newest = conn.execute(
            """SELECT metric, time, value, reading_id FROM readings WHERE sensor_id = 'store-latest'
               ORDER BY time DESC LIMIT 1"""
        ).fetchone()
    assert newest is not None
    assert newest[:3] == ("mains_voltage", START + timedelta(minutes=19), 219.0)
    assert latest == [(*newest, START + timedelta(minutes=19), 1, 219.0)]
