"""The API on loopback against the running pipeline: who sees what, live alerts, the page in a browser."""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulate.simulator import Publisher
from tests.integration.helpers import api_headers, eventually, query, register
from vigia.settings import Settings

LIMA = ZoneInfo("America/Lima")

pytestmark = pytest.mark.integration

NORTH, SOUTH = "it-api-north", "it-api-south"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"

Event = dict[str, Any]


def base(stack: Settings) -> str:
    return f"http://{stack.api_host}:{stack.api_port}"


def publish_dry_spell(stack: Settings, sensor_id: str, district: str, dry_minutes: int = 35) -> datetime:
    """Five minutes of supply, then the taps dry, as a sensor reports them; returns when it ran dry.

    About two hours ago, and within one day in Lima: the continuity figures count days there,
    and a spell across midnight would be two days of it. One that would cross starts at
    midnight instead, later, so it still ends before now.
    """
    supply = [1.5] * 5 + [0.0] * dry_minutes
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(second=0, microsecond=0)
    local = start.astimezone(LIMA)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), LIMA)
    if local + timedelta(minutes=len(supply)) > midnight:
        start = midnight.astimezone(UTC)
    with Publisher(stack, client_id=f"it-{sensor_id}") as publisher:
        for minute, pressure in enumerate(supply):
            body = {"ts": (start + timedelta(minutes=minute)).isoformat(), "water_pressure": pressure}
            publisher.publish(f"vigia/{district}/{sensor_id}/telemetry", json.dumps(body).encode()).wait_for_publish(10)
    return start + timedelta(minutes=5)


def open_alert(stack: Settings, sensor_id: str, rule: str | None = None) -> str:
    """An open alert on the sensor, of `rule` when named: a sensor that went quiet after its readings also has a
    staleness alert, opened at no fixed moment beside the one a test waits for."""
    sql = """SELECT alert_id::text FROM alerts WHERE sensor_id = %(s)s AND state = 'open'
             AND (%(r)s::text IS NULL OR rule = %(r)s)"""
    rows = eventually(
        lambda: query(stack, sql, {"s": sensor_id, "r": rule}), timeout=90, what=f"an open alert on {sensor_id}"
    )
    return str(rows[0][0])


class Listener:
    """A client of the live alert stream, reading events on a thread of its own."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url, self.headers = url, headers
        self.events: queue.Queue[Event] = queue.Queue()
        self.seen: list[Event] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        with (
            contextlib.suppress(httpx.HTTPError),
            client,
            client.stream("GET", self.url, headers=self.headers) as response,
        ):
            self.events.put({"status": response.status_code})
            event: Event = {}
            for line in response.iter_lines():
                if not line:
                    if event.get("data"):
                        event["alert"] = json.loads(event["data"])
                    if event:
                        self.events.put(event)
                    event = {}
                    continue
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(": ")
                event[name] = event.get(name, "") + value if name == "data" else value

    def wait_for(self, wanted: Callable[[Event], bool], timeout: float = 90) -> Event:
        for event in self.seen:
            if wanted(event):
                return event
        deadline = datetime.now(UTC) + timedelta(seconds=timeout)
        while datetime.now(UTC) < deadline:
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self.seen.append(event)
            if wanted(event):
                return event
        raise AssertionError(f"no such event within {timeout} s; saw {self.seen}")

    def drain(self) -> list[Event]:
        while not self.events.empty():
            self.seen.append(self.events.get())
        return self.seen


def change_of(sensor_id: str, change: str) -> Callable[[Event], bool]:
    return lambda e: (
        e.get("event") == "alert" and e["alert"]["sensor_id"] == sensor_id and e["alert"]["change"] == change
    )


@pytest.fixture(scope="module")
def people(stack: Settings) -> dict[str, dict[str, str]]:
    return {
        "operator": api_headers(stack, "operator"),
        "viewer": api_headers(stack, "viewer"),
        "sensor-admin": api_headers(stack, "sensor-admin"),
        "leader": api_headers(stack, "leader", NORTH),
        "other leader": api_headers(stack, "leader", SOUTH),
        "nobody": {},
    }


@pytest.fixture(scope="module")
def outages(stack: Settings) -> dict[str, Any]:
    """Two water sensors in the north running dry (alerts left open), one quiet sensor in the south."""
    tile = register(stack, "it-api-dry-a", -12.0450, -76.9400, "water", ["water_pressure"], district=NORTH)
    register(stack, "it-api-dry-b", -12.0452, -76.9415, "water", ["water_pressure"], district=NORTH)
    register(stack, "it-api-south", -12.2000, -76.9000, "water", ["water_pressure"], district=SOUTH)
    dry_from = publish_dry_spell(stack, "it-api-dry-a", NORTH)
    publish_dry_spell(stack, "it-api-dry-b", NORTH)
    publish_dry_spell(stack, "it-api-south", SOUTH, dry_minutes=0)
    return {
        "tile": tile,
        "dry_from": dry_from,
        "a": open_alert(stack, "it-api-dry-a", rule="water-outage"),
        "b": open_alert(stack, "it-api-dry-b", rule="water-outage"),
    }


def test_an_alert_raised_by_the_pipeline_arrives_live_only_where_it_belongs(
    stack: Settings, people: dict[str, dict[str, str]]
) -> None:
    register(stack, "it-api-live", -12.0460, -76.9420, "water", ["water_pressure"], district=NORTH)
    url = f"{base(stack)}/alerts/stream"
    operator, leader, other = (Listener(url, people[who]) for who in ("operator", "leader", "other leader"))
    for listener in (operator, leader, other):
        assert listener.wait_for(lambda e: "status" in e, timeout=10)["status"] == 200
        listener.wait_for(lambda e: e.get("event") == "ready", timeout=10)

    publish_dry_spell(stack, "it-api-live", NORTH)
    opened = operator.wait_for(change_of("it-api-live", "opened"))
    alert = opened["alert"]
    assert (alert["district"], alert["rule"], alert["state"]) == (NORTH, "water-outage", "open")
    assert alert["title_es"] == "Sin agua"
    assert leader.wait_for(change_of("it-api-live", "opened"))["id"] == opened["id"]

    acknowledged = httpx.post(
        f"{base(stack)}/alerts/{alert['alert_id']}/acknowledge",
        json={"note": "Cisterna pedida, llega a las 16:00"},
        headers=people["leader"],
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == "test leader"
    change = operator.wait_for(change_of("it-api-live", "acknowledged"))["alert"]
    assert change["change_detail"] == "test leader: Cisterna pedida, llega a las 16:00"
    again = httpx.post(f"{base(stack)}/alerts/{alert['alert_id']}/acknowledge", json={}, headers=people["leader"])
    assert again.status_code == 409
    assert "acknowledged" in again.json()["detail"]

    # The other district's leader heard nothing of it, and cannot reach it.
    assert not [e for e in other.drain() if e.get("event") == "alert" and e["alert"]["district"] == NORTH]
    assert httpx.get(f"{base(stack)}/alerts/{alert['alert_id']}", headers=people["other leader"]).status_code == 404

    # A client that reconnects with the last id it saw is given what it missed.
    resumed = Listener(url, {**people["operator"], "Last-Event-ID": opened["id"]})
    missed = resumed.wait_for(change_of("it-api-live", "acknowledged"), timeout=10)
    assert missed["id"] > opened["id"]


def test_each_role_reaches_what_it_may_and_a_leader_only_their_district(
    stack: Settings, people: dict[str, dict[str, str]], outages: dict[str, Any]
) -> None:
    z, x, y = outages["tile"].split("/")
    reads = [
        "/districts/it-api-north",
        "/districts/it-api-north/tiles.geojson",
        "/districts/it-api-north/continuity",
        "/sensors/it-api-dry-a",
        "/sensors/it-api-dry-a/latest",
        "/sensors/it-api-dry-a/series?metric=water_pressure",
        "/sensors/it-api-dry-a/uptime",
        f"/tiles/{z}/{x}/{y}",
        f"/alerts/{outages['a']}",
        "/priorities/tiles?district=it-api-north",
        "/districts/it-api-north/report",
    ]
    expected_read = {"operator": 200, "viewer": 200, "sensor-admin": 200, "leader": 200, "other leader": 404,
                     "nobody": 401}  # fmt: skip
    got = {
        (path, who): httpx.get(base(stack) + path, headers=headers, timeout=10).status_code
        for path in reads
        for who, headers in people.items()
    }
    assert got == {(path, who): expected_read[who] for path in reads for who in people}

    new_sensor = {
        "sensor_id": "it-api-new",
        "sensor_type": "power",
        "district": NORTH,
        "latitude": -12.0455,
        "longitude": -76.9405,
    }
    writes = {
        ("POST", f"/alerts/{outages['b']}/resolve"): {"viewer": 403, "sensor-admin": 403, "leader": 403,
                                                     "other leader": 403, "nobody": 401, "operator": 200},
        ("PUT", "/tiles/19/150070/279780/imagery"): {"viewer": 403, "sensor-admin": 403, "leader": 403,
                                                     "other leader": 403, "nobody": 401},
        ("POST", "/sensors"): {"viewer": 403, "leader": 403, "other leader": 403, "nobody": 401, "sensor-admin": 201},
        ("DELETE", "/sensors/it-api-new"): {"viewer": 403, "leader": 403, "nobody": 401, "sensor-admin": 204},
    }  # fmt: skip
    for (method, path), by_role in writes.items():
        body = new_sensor if path == "/sensors" else {"note": "checked on site"}
        for who, status in by_role.items():
            response = httpx.request(method, base(stack) + path, json=body, headers=people[who])
            assert (method, path, who, response.status_code) == (method, path, who, status), response.text
            if status >= 400:
                assert isinstance(response.json()["detail"], str)
    # the sensor-admin's sensor was issued credentials for its own topic, then revoked
    assert query(stack, "SELECT revoked_at IS NOT NULL FROM sensors WHERE sensor_id = 'it-api-new'") == [(True,)]
    assert query(stack, "SELECT state, note FROM alerts WHERE alert_id = %(a)s", {"a": outages["b"]}) == [
        ("resolved", "checked on site")
    ]

    # Lists are cut to the caller's district, not refused.
    def sensors_of(who: str) -> set[str]:
        rows = httpx.get(f"{base(stack)}/sensors?limit=1000", headers=people[who]).json()
        return {r["district"] for r in rows}

    assert sensors_of("other leader") == {SOUTH}
    assert {NORTH, SOUTH} <= sensors_of("viewer")
    south_alerts = httpx.get(f"{base(stack)}/alerts?limit=500", headers=people["other leader"]).json()
    assert all(a["district"] == SOUTH for a in south_alerts)
    districts = httpx.get(f"{base(stack)}/priorities/districts", headers=people["other leader"]).json()
    assert [d["district"] for d in districts] == [SOUTH]


def test_series_continuity_geojson_and_priorities_tell_the_same_outage(
    stack: Settings, people: dict[str, dict[str, str]], outages: dict[str, Any]
) -> None:
    api = httpx.Client(base_url=base(stack), headers=people["viewer"], timeout=10)
    minutes = api.get("/sensors/it-api-dry-a/series", params={"metric": "water_pressure"}).json()
    assert minutes["points"] == 40
    assert minutes["bucket_seconds"] == 60
    assert minutes["min"][5:] == [0.0] * 35
    assert minutes["time"][5] == int(outages["dry_from"].timestamp())
    hours = api.get("/sensors/it-api-dry-a/series", params={"metric": "water_pressure", "bucket": "1h"}).json()
    assert sum(hours["count"]) == 40
    assert hours["points"] <= 3
    too_many = api.get(
        "/sensors/it-api-dry-a/series",
        params={"metric": "water_pressure", "start": (datetime.now(UTC) - timedelta(days=40)).isoformat()},
    )
    assert too_many.status_code == 422
    assert "points" in too_many.json()["detail"]

    water = api.get("/districts/it-api-north/continuity").json()["water"]
    mine = [i for i in water["interruptions"] if i["sensor_id"] == "it-api-dry-a"]
    assert len(mine) == 1
    assert datetime.fromisoformat(mine[0]["started"]) == outages["dry_from"]
    assert mine[0]["ended"] is None  # still dry at the end of the period
    assert mine[0]["minutes"] >= 35

    layer = api.get("/districts/it-api-north/tiles.geojson")
    assert layer.headers["content-type"] == "application/geo+json"
    geo = layer.json()
    tile = next(f for f in geo["features"] if f["id"] == outages["tile"])
    assert tile["geometry"]["type"] == "Polygon"
    assert tile["properties"]["open_alerts"] >= 1
    assert tile["properties"]["status"] in {"warning", "critical"}

    ranked = api.get("/priorities/tiles", params={"district": NORTH}).json()
    # the two dry tiles outrank the rest of the district; the one still dry says so
    mine = next(r for r in ranked if r["tile_id"] == outages["tile"])
    assert mine["rank"] <= 2
    # Its outage is open; so may be a "not reporting" alert, once other tests' readings on its
    # partition have moved the stream clock past its last reading.
    assert mine["open_alerts"] >= 1
    assert "No water" in mine["why"]  # the rule as its title says it
    assert f"{mine['open_alerts']} still open" in mine["why"]
    assert api.get("/metrics").text.count("vigia_api_request_seconds_count") > 0

    page = api.get("/districts/it-api-north/report", params={"days": 1})
    assert page.headers["content-type"].startswith("text/html")
    assert page.text.count("<svg") >= 5  # four plots, and the semester's hours per water supply point
    assert outages["tile"] in page.text  # among the top priorities
    assert "Continuidad del servicio" in page.text  # Spanish unless asked otherwise
    english = api.get("/districts/it-api-north/report", params={"days": 1, "lang": "en"}).text
    assert "Service continuity" in english
    assert "Continuidad" not in english
    pdf = api.get("/districts/it-api-north/report", params={"days": 1, "format": "pdf"})
    assert pdf.content.startswith(b"%PDF")


def test_the_page_shows_an_alert_raised_by_the_pipeline(
    stack: Settings, people: dict[str, dict[str, str]], outages: dict[str, Any]
) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by deploy/local/install-system.sh"
    key = people["operator"]["Authorization"].removeprefix("Bearer ")
    url = f"{base(stack)}/#key={key}&district={NORTH}"  # other tests' districts may come first in the list
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "page.png"
    with tempfile.TemporaryDirectory() as profile:
        flags = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
            "--window-size=1280,1100", "--virtual-time-budget=15000",
        ]  # fmt: skip
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
        subprocess.run([chromium, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
    assert f'data-alert="{outages["a"]}"' in dom.stdout, dom.stderr[-2000:]
    assert "it-api-dry-a" in dom.stdout
    assert screenshot.stat().st_size > 10_000


def test_a_district_known_only_by_its_imagery_has_a_status_with_no_sensors(
    stack: Settings, people: dict[str, dict[str, str]]
) -> None:
    query(
        stack,
        """INSERT INTO imagery (tile_id, zoom, x, y, captured_at, district, source, digest)
           VALUES ('19/7/3', 19, 7, 3, now(), 'it-api-imagery-only', 'it', 'it') ON CONFLICT DO NOTHING
           RETURNING tile_id""",
    )
    status = httpx.get(f"{base(stack)}/districts/it-api-imagery-only", headers=people["operator"], timeout=10)
    assert status.status_code == 200, status.text
    assert (status.json()["sensors"], status.json()["open_alerts"]) == (0, 0)
    assert httpx.get(f"{base(stack)}/districts/it-api-nowhere", headers=people["operator"]).status_code == 404
    assert httpx.get(f"{base(stack)}/districts/it-api-imagery-only", headers=people["other leader"]).status_code == 404
