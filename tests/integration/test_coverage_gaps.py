"""Where to install the next sensors, on the real stack: precarious imagery tiles no sensor watches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import mercantile
import pytest

from inference import intake
from inference.tiling import ImageTile
from tests.integration.helpers import api_headers, eventually, query, register
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-gaps"
SENSOR = ("it-gaps-water", -12.0900, -76.9900)


def test_precarious_tiles_nobody_watches_are_ranked_listed_mapped_and_reported(stack: Settings) -> None:
    sensor_id, lat, lon = SENSOR
    register(stack, sensor_id, lat, lon, "water", ["water_pressure"], district=DISTRICT)
    home = mercantile.tile(lon, lat, stack.imagery_zoom)
    z = stack.imagery_zoom
    placed = {  # offset from the sensor's tile -> what the imagery shows there
        (1, 0): "mobilehomepark",  # a neighbour: watched
        (3, 0): "mobilehomepark",  # precarious, unwatched
        (5, 0): "denseresidential",  # precarious, unwatched
        (7, 0): "forest",  # unwatched but not housing
    }
    when = datetime(2026, 4, 1, 15, tzinfo=UTC)
    tiles = [
        ImageTile(tile_id=f"{z}/{home.x + dx}/{home.y + dy}", source=f"{name}.jpg", captured_at=when,
                  data=(stack.imagery_dir / "ucmerced" / name / f"{name}40.jpg").read_bytes())
        for (dx, dy), name in placed.items()
    ]  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, tiles, district=DISTRICT))
    sql = "SELECT count(*) FROM tile_assessments WHERE district = %(d)s AND zoom = %(z)s"
    eventually(lambda: query(stack, sql, {"d": DISTRICT, "z": z})[0][0] == 4 or None, what="four tiles assessed")

    viewer = httpx.Client(base_url=base(stack), headers=api_headers(stack, "viewer"), timeout=30)
    gaps = viewer.get(f"/districts/{DISTRICT}/coverage-gaps").json()
    assert {g["tile_id"] for g in gaps} == {f"{z}/{home.x + 3}/{home.y}", f"{z}/{home.x + 5}/{home.y}"}
    assert [g["rank"] for g in gaps] == [1, 2]
    assert gaps[0]["need"] >= gaps[1]["need"]
    assert all(g["housing_score"] >= 0.6 for g in gaps)
    far = {g["tile_id"]: g["nearest_sensor_m"] for g in gaps}
    assert far[f"{z}/{home.x + 3}/{home.y}"] == pytest.approx(3 * 73, rel=0.25)  # three tiles of about 73 m
    geo = viewer.get(f"/districts/{DISTRICT}/coverage-gaps.geojson", params={"limit": 1}).json()
    assert [f["id"] for f in geo["features"]] == [gaps[0]["tile_id"]]
    assert geo["features"][0]["geometry"]["type"] == "Polygon"
    report = viewer.get(f"/districts/{DISTRICT}/report", params={"lang": "en"}).text
    assert "Where to install the next ten sensors" in report
    assert gaps[0]["tile_id"] in report
    stranger = api_headers(stack, "leader", district="another-district")
    assert httpx.get(f"{base(stack)}/districts/{DISTRICT}/coverage-gaps", headers=stranger).status_code == 404
