"""INT8 serving: kept only when it judges as well, and only for the weights it was made from."""

import json
import shutil
from pathlib import Path

import pytest

from inference import quantize
from inference.assessor import DEFAULT_MODEL, Assessment, Assessor
from vigia.settings import Settings

TILES = Settings().imagery_dir / "ucmerced"


@pytest.fixture(scope="module")
def built() -> tuple[quantize.Verdict, bytes]:
    return quantize.build(DEFAULT_MODEL, TILES, calibration_tiles=32)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    copy = tmp_path / "tilenet.pt"
    shutil.copyfile(DEFAULT_MODEL, copy)
    return copy


def test_the_shipped_model_quantizes_within_the_allowed_drop(built: tuple[quantize.Verdict, bytes]) -> None:
    verdict, graph = built
    assert verdict.validation_tiles == 252
    assert verdict.kept, verdict
    assert abs(verdict.drop) <= quantize.MAX_F1_DROP
    assert len(graph) < DEFAULT_MODEL.stat().st_size  # eight bits a weight, not sixteen


def test_a_kept_graph_serves_its_own_weights_and_no_other(built: tuple[quantize.Verdict, bytes], model: Path) -> None:
    verdict, graph = built
    quantize.keep(model, verdict, graph)
    int8 = Assessor.from_file(model, threads=1)
    full = Assessor.from_file(model, threads=1, int8=False)
    try:
        assert (int8.precision, full.precision) == ("int8", "fp32")
        classes = sorted(p.name for p in TILES.iterdir() if p.is_dir())
        tiles = [(TILES / c / f"{c}{i:02d}.jpg").read_bytes() for c in classes for i in (1, 2)]
        fast, exact = int8.assess(tiles), full.assess(tiles)
        pairs = [(a, b) for a, b in zip(fast, exact, strict=True) if isinstance(a, Assessment)]
        assert len(pairs) == len(tiles)
        assert all(isinstance(b, Assessment) for _, b in pairs)
        flipped = [(a, b) for a, b in pairs if a.land_use_class != b.land_use_class]  # type: ignore[union-attr]
        assert len(flipped) <= 2  # a tile near a tie between two classes may flip
        # and then only to full precision's runner-up, never to a class it did not consider
        assert all(a.land_use_class == b.top_classes[1][0] for a, b in flipped)  # type: ignore[union-attr]
    finally:
        int8.close()
        full.close()
    other = json.loads(quantize.verdict_path(model).read_text()) | {"model_version": "tilenet-another"}
    quantize.verdict_path(model).write_text(json.dumps(other))
    assert quantize.served_graph(model, verdict.model_version) is None


def test_a_graph_that_loses_too_much_is_not_kept_and_an_older_one_goes(
    built: tuple[quantize.Verdict, bytes], model: Path
) -> None:
    verdict, graph = built
    quantize.keep(model, verdict, graph)
    worse = quantize.Verdict(verdict.model_version, 0.95, 0.94, 252, 32)
    assert not worse.kept
    quantize.keep(model, worse, graph)
    assert not quantize.graph_path(model).exists()
    assert quantize.served_graph(model, verdict.model_version) is None
