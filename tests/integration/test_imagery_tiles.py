"""The imagery archive on the real stack: assessed tiles kept, and served back as the map's base layer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
import torch

from inference import intake, modelfile
from inference.assessor import DEFAULT_MODEL
from inference.registry import RegisteredVersion
from inference.tiling import ImageTile
from tests.integration.helpers import api_headers, eventually, query, vigia
from vigia.archive import ImageryArchive
from vigia.settings import Settings

pytestmark = pytest.mark.integration

X, Y = 150100, 279800  # zoom 19; the four tiles of 18/75050/139900
CLASSES = ("denseresidential", "mobilehomepark", "forest", "river")


def png(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return cv2.imdecode(np.frombuffer(response.content, dtype=np.uint8), cv2.IMREAD_UNCHANGED)


def test_assessed_tiles_are_archived_and_drawn_at_their_zoom_and_below(stack: Settings) -> None:
    when = datetime(2026, 3, 1, 15, tzinfo=UTC)
    tiles = [
        ImageTile(tile_id=f"19/{X + i % 2}/{Y + i // 2}", source=f"{name}.jpg", captured_at=when,
                  data=(stack.imagery_dir / "ucmerced" / name / f"{name}10.jpg").read_bytes())
        for i, name in enumerate(CLASSES)
    ]  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, tiles, district="sjl-map"))
    sql = "SELECT tile_id, digest, x, y FROM imagery WHERE district = 'sjl-map' ORDER BY tile_id"

    def archived() -> list[tuple[str, str, int, int]] | None:
        found = query(stack, sql)
        return found if len(found) == 4 else None

    rows = eventually(archived, what="four archived tiles")
    archive = ImageryArchive.from_settings(stack)
    for (tile_id, digest, x, y), tile in zip(rows, sorted(tiles, key=lambda t: t.tile_id), strict=True):
        assert archive.get(digest) == tile.data
        assert tile_id == f"19/{x}/{y}"

    base = f"http://{stack.api_host}:{stack.api_port}/imagery"
    headers = api_headers(stack, "viewer")
    own = png(httpx.get(f"{base}/19/{X}/{Y}.png", headers=headers, timeout=30))
    assert own.shape == (256, 256, 4)
    assert own[..., 3].min() == 255

    parent = httpx.get(f"{base}/18/{X // 2}/{Y // 2}.png", headers=headers, timeout=30)
    drawn = png(parent)
    assert drawn[..., 3].min() == 255  # all four quarters have an image
    quarters = [drawn[:128, :128, :3], drawn[:128, 128:, :3], drawn[128:, :128, :3], drawn[128:, 128:, :3]]
    assert len({int(q.mean()) for q in quarters}) > 1  # four different images, not one stretched
    again = httpx.get(f"{base}/18/{X // 2}/{Y // 2}.png", headers={**headers, "If-None-Match": parent.headers["ETag"]})
    assert again.status_code == 304

    wider = png(httpx.get(f"{base}/17/{X // 4}/{Y // 4}.png", headers=headers, timeout=30))
    assert (wider[..., 3] == 255).mean() == pytest.approx(0.25)  # one quarter of it has imagery

    assert httpx.get(f"{base}/19/{X + 5}/{Y}.png", headers=headers).status_code == 404  # nothing taken there
    assert httpx.get(f"{base}/19/{X}/{Y}.png").status_code == 401
    stranger = api_headers(stack, "leader", district="another-district")
    assert httpx.get(f"{base}/19/{X}/{Y}.png", headers=stranger).status_code == 404


def test_a_promoted_model_assesses_the_archived_imagery_again(
    stack: Settings, tmp_path: Path, champion_restored: RegisteredVersion
) -> None:
    net, info = modelfile.load(DEFAULT_MODEL)
    with torch.no_grad():
        net.classify.bias[1] += 0.02  # another model: other weights, another version
    trained_at = datetime.now(UTC).replace(microsecond=0)
    fresh = modelfile.ModelInfo(
        version=modelfile.version_for(modelfile.half_state(net), trained_at), classes=info.classes,
        input_size=info.input_size, housing_weights=info.housing_weights, trained_at=trained_at,
    )  # fmt: skip
    modelfile.save(tmp_path / "model.pt", net, fresh)
    assert vigia("model", "register", str(tmp_path / "model.pt")).returncode == 0
    assert vigia("model", "promote", fresh.version).returncode == 0
    again = vigia("imagery", "reassess", "--district", "sjl-map", "--wait", "--timeout", "120")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "queued 4 archived tiles" in again.stdout
    sql = "SELECT count(*) FROM tile_assessments WHERE district = 'sjl-map' AND zoom = 19 AND model_version = %(v)s"
    assert query(stack, sql, {"v": fresh.version})[0][0] == 4
    assert query(stack, sql, {"v": champion_restored.version})[0][0] == 4  # the earlier model's rows stay
    nothing = vigia("imagery", "reassess", "--district", "no-such-district")
    assert nothing.returncode == 1
    assert "no archived imagery" in nothing.stdout


def test_a_place_imaged_twice_is_shown_as_it_was_on_either_date(stack: Settings) -> None:
    x, y = X + 8, Y  # a tile of its own, in a district of its own
    first, second = datetime(2025, 9, 10, 15, tzinfo=UTC), datetime(2026, 9, 10, 15, tzinfo=UTC)
    taken = [(first, "forest", "vuelo-2025.tif"), (second, "denseresidential", "vuelo-2026.tif")]
    for when, name, source in taken:
        data = (stack.imagery_dir / "ucmerced" / name / f"{name}20.jpg").read_bytes()
        tile = ImageTile(tile_id=f"19/{x}/{y}", source=source, captured_at=when, data=data)
        asyncio.run(intake.queue_tiles(stack, [tile], district="sjl-dates"))
    sql = "SELECT count(*) FROM imagery WHERE district = 'sjl-dates'"
    eventually(lambda: query(stack, sql)[0][0] == 2 or None, what="both acquisitions archived")

    base = f"http://{stack.api_host}:{stack.api_port}/imagery"
    headers = api_headers(stack, "viewer")
    block = f"17/{x // 4}/{y // 4}"
    dates = httpx.get(f"{base}/{block}/acquisitions", headers=headers, timeout=10).json()
    assert [(d["source"], d["tiles"]) for d in dates] == [("vuelo-2025.tif", 1), ("vuelo-2026.tif", 1)]
    assert datetime.fromisoformat(dates[0]["captured_at"]) == first

    def at(when: datetime | None) -> np.ndarray:
        params = {"at": when.isoformat()} if when else {}
        return png(httpx.get(f"{base}/19/{x}/{y}.png", params=params, headers=headers, timeout=30))

    then, now, newest = at(first), at(second + timedelta(days=1)), at(None)
    assert np.array_equal(now, newest)  # without a date: the newest
    assert not np.array_equal(then, now)  # the forest, then the houses
    before = httpx.get(f"{base}/19/{x}/{y}.png", params={"at": "2024-01-01T00:00:00Z"}, headers=headers)
    assert before.status_code == 404
    assert "by 2024-01-01" in before.json()["detail"]
    stranger = api_headers(stack, "leader", district="another-district")
    assert httpx.get(f"{base}/{block}/acquisitions", headers=stranger).json() == []
