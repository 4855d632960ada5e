"""The shipped model behind the worker: deterministic, order-keeping, and honest about bad images."""

from collections.abc import Iterator

import numpy as np
import pytest

from inference.assessor import DEFAULT_MODEL, Assessment, Assessor
from vigia.images import ImageError
from vigia.settings import Settings

TILES = Settings().imagery_dir / "ucmerced"


@pytest.fixture(scope="module")
def assessor() -> Iterator[Assessor]:
    model = Assessor.from_file(DEFAULT_MODEL, threads=2)
    yield model
    model.close()


def tile(name: str, index: int) -> bytes:
    return (TILES / name / f"{name}{index:02d}.jpg").read_bytes()


def test_same_tile_same_model_same_embedding(assessor: Assessor) -> None:
    data = tile("denseresidential", 3)
    first, second = assessor.assess([data]), assessor.assess([data])
    assert isinstance(first[0], Assessment)
    assert first == second
    in_a_batch = assessor.assess([tile("forest", 1), data, tile("river", 2)])[1]
    assert isinstance(in_a_batch, Assessment)
    assert np.allclose(in_a_batch.embedding, first[0].embedding, atol=1e-4)
    assert first[0].model_version == assessor.version


def test_results_keep_order_and_bad_images_keep_their_place(assessor: Assessor) -> None:
    batches = [[tile("forest", 0), b"", tile("mobilehomepark", 0)], [b"\x89PNG\r\n\x1a\nbroken", tile("beach", 0)]]
    results = [r for batch in assessor.assess_stream(batches) for r in batch]
    assert [type(r).__name__ for r in results] == ["Assessment", "ImageError", "Assessment", "ImageError", "Assessment"]
    assert isinstance(results[1], ImageError)
    assert results[1].reason == "empty"


def test_housing_tiles_score_above_the_rest(assessor: Assessor) -> None:
    housing = [tile(name, i) for name in ("denseresidential", "mobilehomepark") for i in range(2)]
    other = [tile(name, i) for name in ("forest", "river", "golfcourse") for i in range(2)]
    scores = [r.housing_score for r in assessor.assess(housing + other) if isinstance(r, Assessment)]
    assert min(scores[: len(housing)]) > max(scores[len(housing) :])
    assert all(0.0 <= s <= 1.0 for s in scores)
