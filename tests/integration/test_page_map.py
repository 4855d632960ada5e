"""The operator's map in a real browser (Debian's Chromium driven by Playwright): imagery, tiles, sensors."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from pathlib import Path

import httpx
import mercantile
import pytest
from playwright.sync_api import Response, sync_playwright

from inference import intake
from inference.tiling import ImageTile
from tests.integration.helpers import api_headers, eventually, query, register
from tests.integration.test_api import base, open_alert, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]  # fmt: skip
DISTRICT = "it-map"
# Every string of the page's English that its Spanish does not share (TEXT in api/web/text.js).
ENGLISH_ONLY = """() => {
  const flat = (o) => Object.values(o).flatMap((v) => (typeof v === "object" ? flat(v) : [v]));
  const es = new Set(flat(TEXT.es));
  return flat(TEXT.en).filter((s) => !es.has(s) && s.length > 3);
}"""
SENSOR = ("it-map-water", -12.0700, -76.9700)


@pytest.fixture(scope="module")
def district(stack: Settings) -> str:
    """A sensor, and imagery of the four imagery tiles around it, assessed and archived."""
    sensor_id, lat, lon = SENSOR
    register(stack, sensor_id, lat, lon, "water", ["water_pressure"], district=DISTRICT)
    centre = mercantile.tile(lon, lat, stack.imagery_zoom)
    when = datetime(2026, 3, 2, 15, tzinfo=UTC)
    names = ("denseresidential", "mobilehomepark", "mediumresidential", "sparseresidential")
    tiles = [
        ImageTile(tile_id=f"{stack.imagery_zoom}/{centre.x + dx}/{centre.y + dy}", source=f"{name}.jpg",
                  captured_at=when, data=(stack.imagery_dir / "ucmerced" / name / f"{name}20.jpg").read_bytes())
        for (dx, dy), name in zip(((0, 0), (1, 0), (0, 1), (1, 1)), names, strict=True)
    ]  # fmt: skip
    later = ImageTile(tile_id=tiles[0].tile_id, source="vuelo-2026-09.jpg", captured_at=when.replace(month=9),
                      data=(stack.imagery_dir / "ucmerced" / "forest" / "forest20.jpg").read_bytes())  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, [*tiles, later], district=DISTRICT))
    sql = "SELECT count(*) FROM imagery WHERE district = %(d)s"
    eventually(lambda: query(stack, sql, {"d": DISTRICT})[0][0] == 5 or None, what="the district's imagery archived")
    return DISTRICT


def test_the_map_shows_the_districts_imagery_its_tiles_and_a_sensor_that_opens_its_panel(
    stack: Settings, district: str
) -> None:
    key = api_headers(stack, "operator")["Authorization"].removeprefix("Bearer ")
    imagery: list[Response] = []
    errors: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.on("response", lambda r: imagery.append(r) if "/imagery/" in r.url else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://{stack.api_host}:{stack.api_port}/#key={key}")
        page.wait_for_selector(f'#district option[value="{district}"]', state="attached")
        page.select_option("#district", district)
        page.wait_for_selector(f'path[data-sensor="{SENSOR[0]}"]', timeout=30_000)
        page.wait_for_selector("path[data-tile]")
        page.wait_for_selector("img[data-imagery]", timeout=30_000)
        drawn = [r for r in imagery if r.status == 200]
        assert drawn, [f"{r.status} {r.url}" for r in imagery]
        assert all(r.headers["content-type"] == "image/png" for r in drawn)
        assert page.locator(".leaflet-control-scale").count() == 1
        assert page.locator(".leaflet-control-layers-overlays label").count() == 4
        page.locator(f'path[data-sensor="{SENSOR[0]}"]').click()  # markers are redrawn as alerts change
        page.wait_for_selector(f'#tile[data-sensor="{SENSOR[0]}"]')
        assert SENSOR[0] in page.inner_text("#tile")
        english_only = page.evaluate(ENGLISH_ONLY)
        assert len(english_only) > 40
        shown = page.inner_text("body")
        said = [s for s in english_only if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", shown)]
        assert said == []  # the Spanish page says nothing in English

        photo = stack.imagery_dir / "ucmerced" / "mobilehomepark" / "mobilehomepark30.jpg"
        page.set_input_files("#assess-file", str(photo))  # the same as dropping it on the zone
        verdict = page.wait_for_selector("#assessment .verdict", timeout=30_000).inner_text()
        assert "vivienda ligera agrupada" in verdict  # the class the model found (mobile home park), in Spanish
        assert "vivienda (0 sólida" in verdict  # the housing score, said in the page's language
        assert "fracción construida" in page.inner_text("#assessment")

        with page.expect_download() as report:
            page.click("#report-pdf")
        assert report.value.suggested_filename == f"vigia-{district}.pdf"
        assert Path(report.value.path()).read_bytes().startswith(b"%PDF")

        page.select_option("#tolerance-service", "water")
        page.fill("#tolerance-n", "4")
        page.fill("#tolerance-d", "12")
        page.click("#tolerance button")
        page.wait_for_selector("#semester >> text=N ≤ 4 · D ≤ 12 h", timeout=10_000)

        sensor_tile = mercantile.tile(SENSOR[2], SENSOR[1], stack.tile_zoom)
        page.locator(f'path[data-tile="{sensor_tile.z}/{sensor_tile.x}/{sensor_tile.y}"]').click()
        page.wait_for_selector(".compare img.dated[data-at] >> nth=1", state="attached", timeout=30_000)
        assert page.locator(".compare select").count() == 2  # before and after, either date may be chosen
        assert page.locator(".compare img.dated").evaluate_all("(imgs) => imgs.every((i) => i.naturalWidth > 0)")
        page.locator(".tile-upload input").set_input_files(str(photo))
        page.wait_for_selector(".tile-upload >> text=en cola para el modelo", timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / "map.png"), full_page=True)
        sql = "SELECT count(*) FROM imagery WHERE district = %(d)s AND source LIKE 'upload%%'"
        eventually(lambda: query(stack, sql, {"d": district})[0][0] or None, what="the uploaded image archived")
        browser.close()
    assert not errors


def test_on_a_phone_the_alerts_come_first_a_leader_acknowledges_and_an_operator_resolves_with_notes(
    stack: Settings, district: str
) -> None:
    register(stack, "it-map-dry", SENSOR[1] + 0.0004, SENSOR[2], "water", ["water_pressure"], district=district)
    publish_dry_spell(stack, "it-map-dry", district)
    alert = open_alert(stack, "it-map-dry", rule="water-outage")
    leader = api_headers(stack, "leader", district=district)
    key = leader["Authorization"].removeprefix("Bearer ")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://{stack.api_host}:{stack.api_port}/#key={key}")
        item = page.locator(f'li[data-alert="{alert}"]')
        item.wait_for(timeout=30_000)
        page.wait_for_selector('path[data-sensor="it-map-dry"]', timeout=30_000)
        alerts_box, map_box = page.locator(".alerts-box").bounding_box(), page.locator(".map-box").bounding_box()
        assert alerts_box is not None
        assert map_box is not None
        assert alerts_box["y"] < map_box["y"]  # a leader sees what to act on before the map
        assert alerts_box["width"] <= 390
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing widens the page
        page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)
        water = page.locator("#continuity tbody tr").nth(1).inner_text().split("\t")
        assert water[:2] == ["Agua", "1"]  # the dry spell, counted as the regulator counts outages
        spanish = item.inner_text()
        assert "bajo 0.2 durante" in spanish  # the rule's own words, in the page's language
        assert "below" not in spanish
        page.click("#lang")
        assert "below 0.2 for" in page.locator(f'li[data-alert="{alert}"]').inner_text()
        page.click("#lang")

        assert page.locator("#tolerance").is_hidden()  # tolerances and programmed cuts are an operator's to record
        assert page.locator("#cut").is_hidden()
        page.select_option("#sub-channel", "sms")
        page.fill("#sub-target", "987 654 321")
        page.fill("#sub-name", "Rosa Quispe")
        page.click("#subscribe button[type=submit]")
        mine = page.locator("#subscriptions li[data-subscription]")
        mine.wait_for(timeout=10_000)
        assert "+51987654321 · Rosa Quispe" in mine.inner_text()  # stored as the network dials it
        page.fill("#sub-target", "12")
        page.click("#subscribe button[type=submit]")
        page.wait_for_selector("#sub-said.error", timeout=10_000)  # a number that is none, refused with a reason
        mine.locator("button").click()
        page.wait_for_selector("#subscriptions >> text=Nadie suscrito todavía.", timeout=10_000)

        item.locator("input").fill("Cisterna pedida a Sedapal")
        item.locator('[data-action="acknowledge"]').click()
        eventually(lambda: alert_now(stack, alert, leader)["state"] == "acknowledged" or None, what="acknowledged")
        assert alert_now(stack, alert, leader)["note"] == "Cisterna pedida a Sedapal"
        item = page.locator(f'li[data-alert="{alert}"]')
        assert "acknowledged" in (item.get_attribute("class") or "")
        assert item.locator("[data-action]").count() == 0  # a leader may not close it: no button that would fail

        operator = api_headers(stack, "operator")["Authorization"].removeprefix("Bearer ")
        desk = browser.new_page(viewport={"width": 1280, "height": 900})
        desk.on("pageerror", lambda error: errors.append(str(error)))
        desk.goto(f"http://{stack.api_host}:{stack.api_port}/#key={operator}")
        desk.wait_for_selector(f'#district option[value="{district}"]', state="attached")
        desk.select_option("#district", district)
        row = desk.locator(f'li[data-alert="{alert}"]')
        row.wait_for(timeout=30_000)
        row.locator("input").fill("Llegó la cisterna, agua repuesta")
        row.locator('[data-action="resolve"]').click()
        eventually(lambda: alert_now(stack, alert, leader)["state"] == "resolved" or None, what="resolved")
        assert alert_now(stack, alert, leader)["note"] == "Llegó la cisterna, agua repuesta"
        desk.wait_for_selector(f'li.resolved[data-alert="{alert}"]')  # shown faded, without actions
        assert desk.locator(f'li[data-alert="{alert}"] [data-action]').count() == 0
        browser.close()
    assert not errors


def alert_now(stack: Settings, alert: str, headers: dict[str, str]) -> dict[str, str]:
    answer: dict[str, str] = httpx.get(f"{base(stack)}/alerts/{alert}", headers=headers, timeout=10).json()
    return answer
