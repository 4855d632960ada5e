import numpy as np
import pytest

from inference.housing import (
    DEFAULT_HOUSING_WEIGHTS,
    PRECARIOUS,
    SubTile,
    class_weights,
    housing_scores,
    roll_up,
)

CLASSES = ("forest", "mobilehomepark", "denseresidential", "sparseresidential")


def test_score_is_the_expected_housing_weight() -> None:
    weights = class_weights(CLASSES, {k: v for k, v in DEFAULT_HOUSING_WEIGHTS.items() if k in CLASSES})
    probabilities = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5]], dtype=np.float32)
    scores = housing_scores(probabilities, weights)
    assert scores.tolist() == pytest.approx([0.0, 1.0, 0.9, 0.125])


def test_weights_must_name_known_classes_and_lie_in_range() -> None:
    with pytest.raises(ValueError, match="does not have: castle"):
        class_weights(CLASSES, {"castle": 1.0})
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        class_weights(CLASSES, {"forest": 1.5})


def test_roll_up_means_scores_counts_precarious_and_normalises_the_embedding() -> None:
    parts = [
        SubTile("19/0/0", "denseresidential", 0.8, [1.0, 0.0]),
        SubTile("19/0/1", "denseresidential", 0.7, [0.0, 1.0]),
        SubTile("19/1/0", "forest", 0.0, [1.0, 0.0]),
        SubTile("19/1/1", "mobilehomepark", PRECARIOUS, [1.0, 0.0]),
    ]
    up = roll_up(parts)
    assert up.housing_score == pytest.approx((0.8 + 0.7 + 0.0 + PRECARIOUS) / 4, abs=1e-4)
    assert up.precarious_share == 0.75
    assert up.land_use_class == "denseresidential"
    assert up.sub_tiles == 4
    assert np.linalg.norm(up.embedding) == pytest.approx(1.0, abs=1e-5)
    assert up.embedding[0] > up.embedding[1]


def test_roll_up_breaks_class_ties_by_name_and_needs_a_sub_tile() -> None:
    tie = [SubTile("a", "river", 0, [1.0]), SubTile("b", "beach", 0, [1.0])]
    assert roll_up(tie).land_use_class == "beach"
    with pytest.raises(ValueError, match="nothing to roll up"):
        roll_up([])
