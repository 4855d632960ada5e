"""Imagery through the real stack: a GeoTIFF in, assessments in TimescaleDB, embeddings in Kafka."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference import intake
from inference.registry import ModelRegistry
from inference.tiling import ImageTile
from tests.inference.scenes import mosaic, write_scene
from tests.integration.helpers import api_headers, eventually, query, read_topic, vigia
from vigia import topics
from vigia.contracts import RejectedTileJob, TileEmbedding
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def embeddings_for(settings: Settings, tile_ids: set[str]) -> list[TileEmbedding]:
    found = [TileEmbedding.model_validate_json(r.value) for r in read_topic(settings, topics.TILE_EMBEDDINGS)]
    return [e for e in found if e.tile_id in tile_ids]


def test_a_geotiff_becomes_assessments_and_embeddings_with_the_model_version(stack: Settings, tmp_path: Path) -> None:
    dense = sorted((stack.imagery_dir / "ucmerced" / "denseresidential").glob("*.jpg"))[:4]
    scene = write_scene(tmp_path / "sjl.tif", mosaic(dense, 2))
    result = vigia("imagery", "ingest", str(scene), "--district", "sjl-it", "--wait", "--timeout", "120")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "assessments stored" in result.stdout

    champion = ModelRegistry(stack).champion()
    assert champion is not None
    version = champion.version
    imagery = query(
        stack,
        "SELECT tile_id, model_version, parent_tile_id, array_length(embedding, 1), features FROM tile_assessments"
        " WHERE district = 'sjl-it' AND zoom = 19",
    )
    assert imagery
    assert {row[1] for row in imagery} == {version}
    assert {row[3] for row in imagery} == {128}
    assert all(row[2].startswith("17/") for row in imagery)
    assert all("built_up_fraction" in row[4] for row in imagery)
    parents = {row[2] for row in imagery}
    rollups = query(
        stack,
        "SELECT tile_id, sub_tiles, housing_score, precarious_share FROM tile_assessments"
        " WHERE zoom = 17 AND tile_id = ANY(%(p)s) AND model_version = %(v)s",
        {"p": list(parents), "v": version},
    )
    assert {row[0] for row in rollups} == parents
    assert sum(row[1] for row in rollups) == len(imagery)

    published = eventually(lambda: embeddings_for(stack, parents) or None, what="roll-up embeddings on the topic")
    assert {e.tile_id for e in published} == parents
    assert {e.model_version for e in published} == {version}
    assert all(e.sub_tiles and len(e.embedding) == 128 for e in published)

    # The same scene again rewrites its rows rather than adding to them.
    assert vigia("imagery", "ingest", str(scene), "--district", "sjl-it", "--wait").returncode == 0
    again = query(stack, "SELECT count(*) FROM tile_assessments WHERE district = 'sjl-it' AND zoom = 19")
    assert again[0][0] == len(imagery)


def test_a_bad_image_goes_to_the_dead_letter_topic_and_the_rest_is_assessed(stack: Settings) -> None:
    when = datetime(2026, 2, 1, tzinfo=UTC)
    good = (stack.imagery_dir / "ucmerced" / "mobilehomepark" / "mobilehomepark00.jpg").read_bytes()
    tiles = [
        ImageTile(
            tile_id="19/150050/279760", source="broken.jpg", captured_at=when, data=b"\xff\xd8\xff\xe0 not a jpeg"
        ),
        ImageTile(tile_id="19/150050/279761", source="good.jpg", captured_at=when, data=good),
    ]
    asyncio.run(intake.queue_tiles(stack, tiles, district="sjl-bad"))

    def rejected() -> list[RejectedTileJob] | None:
        letters = [
            RejectedTileJob.model_validate_json(r.value) for r in read_topic(stack, topics.TILE_JOBS_DEAD_LETTER)
        ]
        return [x for x in letters if x.tile_id == "19/150050/279760"] or None

    letter = eventually(rejected, what="the broken tile's dead letter")[0]
    assert letter.reason == "corrupt"
    assert letter.source == "broken.jpg"
    stored = eventually(
        lambda: query(stack, "SELECT tile_id FROM tile_assessments WHERE district = 'sjl-bad' AND zoom = 19") or None,
        what="the good tile's assessment",
    )
    assert [row[0] for row in stored] == ["19/150050/279761"]


def test_an_uploaded_image_is_assessed_and_bad_uploads_are_refused_with_reasons(stack: Settings) -> None:
    import httpx

    base = f"http://{stack.api_host}:{stack.api_port}/tiles"
    image = (stack.imagery_dir / "ucmerced" / "sparseresidential" / "sparseresidential05.jpg").read_bytes()
    jpeg = {"content-type": "image/jpeg", **api_headers(stack, "operator")}
    accepted = httpx.put(f"{base}/19/150070/279780/imagery?district=sjl-up", content=image, headers=jpeg, timeout=30)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["tile_id"] == "19/150070/279780"
    sql = "SELECT land_use_class, source FROM tile_assessments WHERE tile_id = '19/150070/279780'"
    row = eventually(lambda: query(stack, sql) or None, what="the uploaded tile's assessment")[0]
    assert row[1] == "upload"

    refused = {
        "corrupt": httpx.put(f"{base}/19/1/1/imagery", content=b"\xff\xd8\xff\xe0garbage", headers=jpeg),
        "type": httpx.put(f"{base}/19/1/1/imagery", content=image, headers={**jpeg, "content-type": "text/plain"}),
        "grid": httpx.put(f"{base}/19/{2**19}/1/imagery", content=image, headers=jpeg),
        "coarse": httpx.put(f"{base}/12/1/1/imagery", content=image, headers=jpeg),
        "big": httpx.put(f"{base}/19/1/1/imagery", content=b"\xff" * (21 * 1024 * 1024), headers=jpeg, timeout=60),
    }
    assert {name: r.status_code for name, r in refused.items()} == {
        "corrupt": 422,
        "type": 415,
        "grid": 422,
        "coarse": 422,
        "big": 413,
    }
    assert "corrupt" in refused["corrupt"].json()["detail"]
    assert all(isinstance(r.json()["detail"], str) for r in refused.values())
    assert query(stack, "SELECT count(*) FROM tile_assessments WHERE tile_id LIKE '%%/1/1'")[0][0] == 0


def test_an_image_is_assessed_at_once_and_bad_ones_are_refused(stack: Settings) -> None:
    import httpx

    url = f"http://{stack.api_host}:{stack.api_port}/assess"
    operator = api_headers(stack, "operator")
    jpeg = {"content-type": "image/jpeg", **operator}
    dense = (stack.imagery_dir / "ucmerced" / "denseresidential" / "denseresidential05.jpg").read_bytes()
    forest = (stack.imagery_dir / "ucmerced" / "forest" / "forest05.jpg").read_bytes()
    houses = httpx.post(url, content=dense, headers=jpeg, timeout=60)
    trees = httpx.post(url, content=forest, headers=jpeg, timeout=60)
    assert houses.status_code == 200, houses.text
    assert trees.json()["land_use_class"] == "forest"
    assert houses.json()["land_use_class"] != "forest"
    assert houses.json()["features"]["built_up_fraction"] > trees.json()["features"]["built_up_fraction"]
    assert len(houses.json()["top_classes"]) == 3

    png = {**operator, "content-type": "image/png"}
    refused = {
        "corrupt": httpx.post(url, content=b"\x89PNG\r\n\x1a\nnot really", headers=png),
        "type": httpx.post(url, content=dense, headers={**operator, "content-type": "application/pdf"}),
        "viewer": httpx.post(url, content=dense, headers={**jpeg, **api_headers(stack, "viewer")}),
    }  # fmt: skip
    assert {k: r.status_code for k, r in refused.items()} == {"corrupt": 422, "type": 415, "viewer": 403}
