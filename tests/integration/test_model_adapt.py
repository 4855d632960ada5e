"""`vigia model adapt`: the served model's normalisation re-estimated on a district's archived imagery, and
registered as a new version beside the champion, not in its place."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
import torch

from inference import intake, modelfile
from inference.registry import ModelRegistry
from inference.tiling import ImageTile
from tests.integration.helpers import eventually, query, vigia
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-adapt"
X, Y = 150400, 279600


def test_a_district_s_imagery_gives_a_registered_version_with_its_own_statistics(
    stack: Settings, tmp_path: Path
) -> None:
    shared = sorted((stack.imagery_dir / "ucmerced" / "denseresidential").glob("*.jpg"))[:20]
    when = datetime(2026, 8, 1, 15, tzinfo=UTC)
    tiles = [
        ImageTile(tile_id=f"19/{X + i % 5}/{Y + i // 5}", source=path.name, captured_at=when, data=path.read_bytes())
        for i, path in enumerate(shared)
    ]  # fmt: skip
    asyncio.run(intake.queue_tiles(stack, tiles, district=DISTRICT))
    sql = "SELECT count(*) FROM imagery WHERE district = %(d)s"
    eventually(lambda: query(stack, sql, {"d": DISTRICT})[0][0] == 20 or None, what="twenty tiles archived")

    registry = ModelRegistry(stack)
    champion = registry.champion()
    assert champion is not None
    run = vigia("model", "adapt", "--district", DISTRICT, "--out", str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    said = " ".join(run.stdout.split())
    assert f"adapted {champion.version} to 20 tiles of {DISTRICT}" in said
    (written,) = tmp_path.iterdir()
    net, info = modelfile.load(written / "model.pt")
    base, _ = modelfile.load(registry.fetch(champion))
    stats = [k for k in net.state_dict() if k.endswith("running_mean")]
    assert any(not torch.equal(net.state_dict()[k], base.state_dict()[k]) for k in stats)
    assert f"adapted to 20 tiles of {DISTRICT} (AdaBN)" in info.initialisation
    registered = registry.find_by_version(info.version)
    assert registered is not None
    current = registry.champion()
    assert current is not None
    assert current.version == champion.version  # a person promotes it, after judging it
    assert vigia("model", "adapt", "--district", "nowhere").returncode == 1
