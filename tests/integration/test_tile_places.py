"""Blocks go by the names people use: set through the API, or else the name their sensors' places share."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.integration.helpers import api_headers, register
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-places"


def test_a_block_is_named_by_its_sensors_places_until_someone_names_it(stack: Settings) -> None:
    tile = register(stack, "it-places-a", -12.1100, -76.9900, "water", ["water_pressure"], district=DISTRICT)
    register(stack, "it-places-b", -12.1101, -76.9901, "power", ["voltage"], district=DISTRICT)
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        conn.execute("UPDATE sensors SET place = 'Mz. B, AA.HH. Santa Rosa' WHERE sensor_id LIKE 'it-places-%'")
    operator, viewer = api_headers(stack, "operator"), api_headers(stack, "viewer")

    def named() -> tuple[str, str, str]:
        status = httpx.get(f"{base(stack)}/tiles/{tile}", headers=viewer, timeout=10).json()
        geo = httpx.get(f"{base(stack)}/districts/{DISTRICT}/tiles.geojson", headers=viewer, timeout=10).json()
        ranked = httpx.get(f"{base(stack)}/priorities/tiles", params={"district": DISTRICT}, headers=viewer).json()
        [feature] = [f for f in geo["features"] if f["id"] == tile]
        [row] = [r for r in ranked if r["tile_id"] == tile]
        return status["place"], feature["properties"]["place"], row["place"]

    assert named() == ("Mz. B, AA.HH. Santa Rosa",) * 3
    url = f"{base(stack)}/tiles/{tile}/place"
    assert httpx.put(url, json={"place": "Mz. B, Santa Rosa (loma)"}, headers=viewer).status_code == 403
    assert httpx.put(url, json={"place": ""}, headers=operator).status_code == 422
    assert httpx.put(url, json={"place": "Mz. B, Santa Rosa (loma)"}, headers=operator).status_code == 204
    assert named() == ("Mz. B, Santa Rosa (loma)",) * 3
    assert httpx.put(f"{base(stack)}/tiles/17/1/1/place", json={"place": "x"}, headers=operator).status_code == 404
