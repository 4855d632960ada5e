"""The shipped model behind the worker: deterministic, order-keeping, and honest about bad images."""

from collections.abc import Iterator

import numpy as np
import pytest

from inference.assessor import DEFAULT_MODEL, Assessment, Assessor, lane_slices
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
    batch = [tile("forest", 0), b"", tile("mobilehomepark", 0), b"\x89PNG\r\n\x1a\nbroken", tile("beach", 0)]
    results = assessor.assess(batch)  # two lanes: three images and two
    assert [type(r).__name__ for r in results] == ["Assessment", "ImageError", "Assessment", "ImageError", "Assessment"]
    assert isinstance(results[1], ImageError)
    assert results[1].reason == "empty"
    alone = assessor.assess([tile("beach", 0)])[0]
    assert isinstance(alone, Assessment)
    assert isinstance(results[4], Assessment)
    assert np.allclose(alone.embedding, results[4].embedding, atol=1e-4)  # the same, whichever lane ran it


def test_a_lane_of_bad_images_only_still_answers_for_each(assessor: Assessor) -> None:
    results = assessor.assess([b"", b"not an image", tile("forest", 3)])
    assert [type(r).__name__ for r in results] == ["ImageError", "ImageError", "Assessment"]


def test_the_forward_pass_split_into_lanes_matches_one_run(assessor: Assessor) -> None:
    images = np.stack(
        [assessor.prepare(tile(name, 1)).image for name in ("forest", "river", "beach", "freeway", "harbor")]
    )
    probabilities, embeddings = assessor.forward(images)
    whole = assessor.network(images)
    assert probabilities.shape == whole[0].shape
    assert embeddings.shape == whole[1].shape
    assert np.allclose(probabilities, whole[0], atol=1e-5)
    assert np.allclose(embeddings, whole[1], atol=1e-5)


@pytest.mark.parametrize(
    ("count", "lanes", "sizes"), [(16, 2, [8, 8]), (5, 2, [3, 2]), (1, 4, [1]), (0, 2, []), (7, 3, [3, 2, 2])]
)
def test_a_batch_is_split_into_even_runs_in_order(count: int, lanes: int, sizes: list[int]) -> None:
    runs = lane_slices(count, lanes)
    assert [run.stop - run.start for run in runs] == sizes
    assert [i for run in runs for i in range(count)[run]] == list(range(count))


def test_housing_tiles_score_above_the_rest(assessor: Assessor) -> None:
    housing = [tile(name, i) for name in ("denseresidential", "mobilehomepark") for i in range(2)]
    other = [tile(name, i) for name in ("forest", "river", "golfcourse") for i in range(2)]
    scores = [r.housing_score for r in assessor.assess(housing + other) if isinstance(r, Assessment)]
    assert min(scores[: len(housing)]) > max(scores[len(housing) :])
    assert all(0.0 <= s <= 1.0 for s in scores)
