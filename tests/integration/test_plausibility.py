"""A flood sensor reporting water on a dry hillside is flagged with why, and an operator dismisses it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import httpx
import mercantile
import pytest

from inference import intake
from inference.tiling import ImageTile
from simulate.simulator import Publisher
from tests.integration.helpers import api_headers, eventually, query, register
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-plaus"
SENSOR = ("it-plaus-flood", -12.1100, -76.9300)


def test_water_reported_where_the_imagery_shows_dry_scrub_is_flagged_and_can_be_dismissed(stack: Settings) -> None:
    sensor_id, lat, lon = SENSOR
    register(stack, sensor_id, lat, lon, "flood", ["flood_level"], district=DISTRICT)
    z = stack.imagery_zoom
    home = mercantile.tile(lon, lat, z)
    scrub = (stack.imagery_dir / "ucmerced" / "chaparral" / "chaparral12.jpg").read_bytes()
    when = datetime(2026, 5, 1, 15, tzinfo=UTC)
    tiles = [
        ImageTile(tile_id=f"{z}/{home.x + dx}/{home.y + dy}", source="chaparral.jpg", captured_at=when, data=scrub)
        for dx in (-1, 0, 1) for dy in (-1, 0, 1)
    ]  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, tiles, district=DISTRICT))
    sql = "SELECT count(*) FROM tile_assessments WHERE district = %(d)s AND zoom = %(z)s"
    eventually(lambda: query(stack, sql, {"d": DISTRICT, "z": z})[0][0] == 9 or None, what="the scrub assessed")

    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    with Publisher(stack, client_id="it-plaus") as publisher:
        for minute in range(6):
            body = {"ts": (start + timedelta(minutes=minute)).isoformat(), "flood_level": 0.45}
            topic = f"vigia/{DISTRICT}/{sensor_id}/telemetry"
            publisher.publish(topic, json.dumps(body).encode()).wait_for_publish(10)
    stored = "SELECT count(*) FROM readings_1m WHERE sensor_id = %(s)s AND metric = 'flood_level'"
    eventually(lambda: query(stack, stored, {"s": sensor_id})[0][0] >= 5 or None, what="the readings stored")

    operator = httpx.Client(base_url=base(stack), headers=api_headers(stack, "operator"), timeout=30)
    flags = operator.get(f"/districts/{DISTRICT}/plausibility").json()
    [flood] = [f for f in flags if f["rule"] == "flood-without-water"]
    assert flood["sensor_id"] == sensor_id
    assert flood["state"] == "open"
    assert "0.45 m of water" in flood["reason"]
    assert "chaparral" in flood["reason"]
    assert "matorral" in flood["reason_es"]

    viewer = api_headers(stack, "viewer")
    decision = {"decision": "dismissed", "note": "Acequia junto al sensor, no se ve en la imagen"}
    url = f"/sensors/{sensor_id}/plausibility/flood-without-water"
    assert httpx.put(f"{base(stack)}{url}", json=decision, headers=viewer).status_code == 403
    decided = operator.put(url, json=decision)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "dismissed"
    left = operator.get(f"/districts/{DISTRICT}/plausibility").json()
    assert all(f["rule"] != "flood-without-water" for f in left)
    kept = operator.get(f"/districts/{DISTRICT}/plausibility", params={"dismissed": True}).json()
    [again] = [f for f in kept if f["rule"] == "flood-without-water"]
    assert again["note"] == "Acequia junto al sensor, no se ve en la imagen"
    assert operator.put(f"/sensors/{sensor_id}/plausibility/never-supplied", json=decision).status_code == 404
