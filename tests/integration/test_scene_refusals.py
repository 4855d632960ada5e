"""Scenes a new user might try, refused cleanly on the real stack: one line, and nothing queued for them."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.inference.scenes import mosaic, write_scene
from tests.integration.helpers import api_headers, query, vigia
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-refused"


def scenes(stack: Settings, folder: Path) -> dict[str, Path]:
    dense = sorted((stack.imagery_dir / "ucmerced" / "denseresidential").glob("*.jpg"))[:16]
    whole = write_scene(folder / "whole.tif", mosaic(dense, 4))
    truncated = folder / "truncated.tif"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    landsat = write_scene(folder / "landsat.tif", mosaic(dense[:4], 2), metres_per_pixel=30.0)
    return {"truncated": truncated, "landsat": landsat}


def test_a_truncated_or_far_too_coarse_scene_ends_in_one_line_and_queues_nothing(
    stack: Settings, tmp_path: Path
) -> None:
    found = scenes(stack, tmp_path)
    said = {}
    for name, scene in found.items():
        result = vigia("imagery", "ingest", str(scene), "--district", DISTRICT)
        assert result.returncode == 1, result.stdout
        assert "Traceback" not in result.stdout + result.stderr
        said[name] = " ".join(result.stdout.split())
    assert "truncated.tif: damaged or truncated" in said["truncated"]
    assert "nothing was queued" in said["truncated"]
    assert "landsat.tif: 30 m a pixel" in said["landsat"]
    assert "--zoom 14 or coarser" in said["landsat"]

    many = vigia("imagery", "ingest", str(found["landsat"]), "--district", DISTRICT, "--zoom", "14", "--max-tiles", "3")
    assert many.returncode == 1
    assert "more than the limit of 3" in " ".join(many.stdout.split())
    time.sleep(3)  # anything queued would be archived by now
    assert query(stack, "SELECT count(*) FROM imagery WHERE district = %(d)s", {"d": DISTRICT})[0][0] == 0


def test_the_upload_refuses_the_same_scenes_with_the_same_reasons(stack: Settings, tmp_path: Path) -> None:
    found = scenes(stack, tmp_path)
    tiff = {"content-type": "image/tiff", **api_headers(stack, "operator")}
    base = f"http://{stack.api_host}:{stack.api_port}/tiles/19/150090/279790/imagery?district={DISTRICT}"
    coarse = httpx.put(base, content=found["landsat"].read_bytes(), headers=tiff, timeout=30)
    assert coarse.status_code == 422
    assert "30 m a pixel" in coarse.json()["detail"]
    assert "upload it for a tile at zoom 14" in coarse.json()["detail"]
    cut = httpx.put(base, content=found["truncated"].read_bytes(), headers=tiff, timeout=30)
    assert cut.status_code == 422
    assert "\n" not in cut.json()["detail"]
    fine = write_scene(tmp_path / "fine.tif", np.full((256, 256, 3), 120, dtype=np.uint8))
    assert httpx.put(base, content=fine.read_bytes(), headers=tiff, timeout=30).status_code == 202
