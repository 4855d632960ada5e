"""Labels from the field: stored with who and when, the least sure tiles offered first, and a fine-tuning run
that starts from the served model and learns from them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from inference import intake, modelfile
from inference.tiling import ImageTile
from tests.integration.helpers import api_headers, eventually, query, vigia
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-labels"
X, Y = 150300, 279700
NAMES = ("mediumresidential", "denseresidential", "sparseresidential", "chaparral")


def test_labels_are_kept_offered_where_the_model_doubts_and_learned_from(stack: Settings, tmp_path: Path) -> None:
    when = datetime(2026, 7, 1, 15, tzinfo=UTC)
    tiles = [
        ImageTile(tile_id=f"19/{X + i}/{Y}", source=f"{name}.jpg", captured_at=when,
                  data=(stack.imagery_dir / "ucmerced" / name / f"{name}61.jpg").read_bytes())
        for i, name in enumerate(NAMES)
    ]  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, tiles, district=DISTRICT))
    sql = "SELECT count(*) FROM tile_assessments WHERE district = %(d)s AND zoom = 19"
    eventually(lambda: query(stack, sql, {"d": DISTRICT})[0][0] == 4 or None, what="the tiles assessed")

    leader = httpx.Client(base_url=base(stack), headers=api_headers(stack, "leader", district=DISTRICT), timeout=30)
    doubts = leader.get(f"/districts/{DISTRICT}/uncertain").json()
    assert len(doubts) == 4
    assert [d["class_probability"] for d in doubts] == sorted(d["class_probability"] for d in doubts)

    first = doubts[0]["tile_id"]
    z, x, y = first.split("/")
    said = leader.put(f"/tiles/{z}/{x}/{y}/label", json={"land_use_class": "mobilehomepark", "note": "esteras"})
    assert said.status_code == 201, said.text
    assert said.json()["labelled_by"]
    assert leader.put(f"/tiles/19/{X + 1}/{Y}/label", json={"land_use_class": "denseresidential"}).status_code == 201
    assert leader.put(f"/tiles/19/{X}/{Y}/label", json={"land_use_class": "esteras"}).status_code == 422
    viewer = api_headers(stack, "viewer")
    refused = httpx.put(f"{base(stack)}/tiles/19/{X}/{Y}/label", json={"land_use_class": "forest"}, headers=viewer)
    assert refused.status_code == 403
    stranger = api_headers(stack, "leader", district="another-district")
    away = httpx.put(f"{base(stack)}/tiles/19/{X}/{Y}/label", json={"land_use_class": "forest"}, headers=stranger)
    assert away.status_code == 404
    labels = {row["tile_id"]: row["land_use_class"] for row in leader.get(f"/districts/{DISTRICT}/labels").json()}
    assert labels[first] == "mobilehomepark"
    assert first not in {d["tile_id"] for d in leader.get(f"/districts/{DISTRICT}/uncertain").json()}

    run = vigia("train", "--labels", "--district", DISTRICT, "--epochs", "1", "--replay", "2", "--no-register",
                "--out", str(tmp_path))  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    said_all = " ".join(run.stdout.split())
    assert "on 2 labelled tiles of it-labels" in said_all
    (written,) = tmp_path.iterdir()
    _, info = modelfile.load(written / "model.pt")
    assert info.initialisation.startswith("fine-tuned from tilenet-")
    assert "fine-tuned from" in (written / "MODEL_CARD.md").read_text()
