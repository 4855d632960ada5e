"""Sustained load: readings at the drill rate for half an hour while power cuts raise and resolve alerts.

No fault is inflicted. Every ten seconds the drill samples how many published readings are
not yet durable in TimescaleDB (sent minus what the stream worker's offsets in the database
cover) and the resident memory of every process of the stack; an operator's client polls
the API meanwhile, and the district's leader is subscribed through the message log. At the
end it counts readings as the other drills do, checks the alerts against the schedule of
cuts (`outages.py`), and checks that every alert change was delivered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import psycopg

from api import keys
from api.access import Role
from drills import outages
from drills.feed import DISTRICT, SENSORS, Feed, Stored, register, stored
from drills.growth import Growth, Lag, growth, lag
from drills.memory import resident_mib
from notify.delivery import NOTIFIED_CHANGES
from ops.services import Api
from ops.supervisor import Supervisor
from stream.rules import ThresholdRule, load_rules
from vigia import topics
from vigia.settings import Settings

SAMPLE_S = 10.0
POLL_S = 5.0
PREFIX = "soak"


@dataclass
class Samples:
    behind: list[tuple[float, int]] = field(default_factory=list)
    memory: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # private MiB
    shared: dict[str, float] = field(default_factory=dict)  # the latest shared MiB
    checkpoints: list[float] = field(default_factory=list)  # when PostgreSQL was seen to have checkpointed


@dataclass
class Polls:
    ok: int = 0
    failed: int = 0
    slowest_ms: float = 0.0


@dataclass
class Soak:
    sent: int
    held: Stored
    lag: Lag | None
    memory: dict[str, Growth | None]
    shared_mib: dict[str, float]
    alerts_opened: int
    alerts_resolved: int
    owed: outages.Owed
    changes: int
    delivered: int
    polls: Polls
    samples: Samples


def progress(settings: Settings) -> tuple[int, int]:
    """(readings the stream worker has made durable, checkpoints PostgreSQL has made so far).

    Durable is the sum of where the worker's partitions resume; the checkpoints are sampled
    beside it so a slow moment can be laid against them.
    """
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        row = conn.execute(
            "SELECT (SELECT coalesce(sum(next_offset), 0) FROM stream_offsets WHERE topic = %s),"
            " (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)",
            (topics.READINGS,),
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def durable(settings: Settings) -> int:
    return progress(settings)[0]


def power_rule() -> ThresholdRule:
    [rule] = [r for r in load_rules().rules if r.id == "power-outage"]
    if not isinstance(rule, ThresholdRule):
        raise TypeError(f"the power-outage rule is a {type(rule).__name__}, the soak's schedule needs a threshold")
    return rule


def subscribe_leader(client: httpx.Client) -> None:
    answer = client.post(
        "/subscriptions", json={"district": DISTRICT, "channel": "log", "target": "leader of drill", "language": "es"}
    )
    answer.raise_for_status()


def poll(client: httpx.Client, polls: Polls, stop: threading.Event) -> None:
    """An operator's page: open alerts and the district's status, every few seconds."""
    while not stop.wait(POLL_S):
        for path in (f"/alerts?district={DISTRICT}&state=open", f"/districts/{DISTRICT}"):
            began = time.perf_counter()
            try:
                answer = client.get(path)
                good = answer.status_code == 200
            except httpx.HTTPError:
                good = False
            polls.slowest_ms = max(polls.slowest_ms, (time.perf_counter() - began) * 1000)
            if good:
                polls.ok += 1
            else:
                polls.failed += 1


def alert_counts(settings: Settings) -> tuple[int, int, int, int]:
    """(opened, resolved, alert changes subscribers hear of, of those delivered) for the soak's sensors."""
    with psycopg.connect(settings.db_conninfo, connect_timeout=3) as conn:
        opened, resolved = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE state = 'resolved') FROM alerts"
            " WHERE sensor_id LIKE %s AND rule = 'power-outage'",
            (f"{PREFIX}-%",),
        ).fetchone() or (0, 0)
        changes, delivered = conn.execute(
            """SELECT count(*), count(d.delivery_id)
                 FROM alert_events e JOIN alerts a USING (alert_id)
                 LEFT JOIN deliveries d ON d.alert_id = e.alert_id AND d.change = e.change
                                       AND d.event_time = e.time AND d.status = 'delivered'
                WHERE a.sensor_id LIKE %s AND e.change = ANY(%s)""",
            (f"{PREFIX}-%", sorted(NOTIFIED_CHANGES)),
        ).fetchone() or (0, 0)
    return int(opened), int(resolved), int(changes), int(delivered)


def run(settings: Settings, *, rate: float, minutes: float, warmup_s: float, report: Callable[[str], None]) -> Soak:
    register(settings, PREFIX, sensor_type="power", metric="mains_voltage")
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        _, key = keys.add(conn, role=Role.OPERATOR, district=None, name="soak")
    client = httpx.Client(base_url=Api(settings).url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    subscribe_leader(client)
    supervisor = Supervisor(settings.state_dir)
    names = [p["name"] for p in supervisor.rpc.getAllProcessInfo()]
    samples, polls, stop = Samples(), Polls(), threading.Event()
    feed = Feed(settings, PREFIX, rate, minutes * 60, values=lambda n: outages.voltage(n, SENSORS))
    before, checkpoints = progress(settings)
    poller = threading.Thread(target=poll, args=(client, polls, stop), daemon=True)
    publisher = threading.Thread(target=feed.run, daemon=True)
    began = time.monotonic()
    publisher.start()
    poller.start()

    def sample() -> int:
        nonlocal checkpoints
        at = time.monotonic() - began
        made, checkpointed = progress(settings)
        behind = feed.sent - (made - before)
        samples.behind.append((at, behind))
        if checkpointed > checkpoints:
            samples.checkpoints.append(at)
            checkpoints = checkpointed
        for name in names:
            pid = int((supervisor.info(name) or {}).get("pid") or 0)
            if pid:
                private, shared = resident_mib(pid)
                samples.memory.setdefault(name, []).append((at, private))
                samples.shared[name] = shared
        return behind

    next_report = 60.0
    while not feed.done.is_set():
        behind = sample()
        if time.monotonic() - began >= next_report:
            memory = ", ".join(f"{n} {s[-1][1]:.0f}" for n, s in samples.memory.items())
            report(f"{feed.sent:,} sent, {behind:,} not yet stored; MiB: {memory}")
            next_report += 60
        feed.done.wait(SAMPLE_S)
    deadline = time.monotonic() + 120  # what is still in flight: counted below as lost if it never lands
    while feed.sent > durable(settings) - before and time.monotonic() < deadline:
        time.sleep(1)
    time.sleep(2 * SAMPLE_S)  # the notifier delivers the last changes
    stop.set()
    poller.join()
    client.close()
    held = stored(settings, PREFIX)
    opened, resolved, changes, delivered = alert_counts(settings)
    rule = power_rule()
    return Soak(
        sent=feed.sent, held=held,
        lag=lag(samples.behind, warmup_s=warmup_s),
        memory={name: growth(series, warmup_s=warmup_s) for name, series in samples.memory.items()},
        shared_mib=samples.shared,
        alerts_opened=opened, alerts_resolved=resolved,
        owed=outages.owed(SENSORS, feed.sent, for_ms=int(rule.for_minutes * 60_000),
                          clear_ms=int(rule.clear_minutes * 60_000)),
        changes=changes, delivered=delivered, polls=polls, samples=samples,
    )  # fmt: skip
