"""Expected calibration error and reliability bins, on numbers worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from inference.calibration import confidence, fit_temperature, housing, reliability


def test_a_perfectly_calibrated_score_has_no_error() -> None:
    found = reliability([0.05, 0.05, 0.95, 0.95], [0.05, 0.05, 0.95, 0.95])
    assert found.ece == pytest.approx(0.0)
    assert [(b.low, b.tiles) for b in found.bins] == [(0.0, 2), (pytest.approx(0.9), 2)]


def test_the_error_is_each_bins_gap_weighted_by_its_share() -> None:
    # half the tiles said 0.9 and were right half the time; half said 0.2 and were all wrong
    found = reliability([0.9, 0.9, 0.2, 0.2], [1.0, 0.0, 0.0, 0.0])
    assert found.ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.2)
    assert reliability([1.0], [1.0]).bins[0].low == pytest.approx(0.9)  # 1.0 falls in the last bin


def test_confidence_and_housing_read_the_probabilities() -> None:
    probabilities = np.array([[0.8, 0.2], [0.6, 0.4], [0.1, 0.9]])
    labels = [0, 1, 1]
    assert confidence(probabilities, labels).ece == pytest.approx((abs(0.8 - 1) + abs(0.6 - 0) + abs(0.9 - 1)) / 3)
    weights = np.array([0.0, 1.0])
    score = housing(probabilities, labels, weights)
    assert sum(b.tiles for b in score.bins) == 3
    assert score.ece == pytest.approx((0.2 + 0.6 + 0.1) / 3)


def _sampled(scale: float, tiles: int = 4000, classes: int = 5) -> tuple[np.ndarray, list[int]]:
    """Labels drawn from softmax(true logits); the model reports the true logits times `scale`."""
    rng = np.random.default_rng(3)
    true = rng.normal(0.0, 2.0, size=(tiles, classes))
    p = np.exp(true - true.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = [int(rng.choice(classes, p=row)) for row in p]
    return true * scale, labels


@pytest.mark.parametrize("scale", [3.0, 1.0, 0.5])
def test_the_fitted_temperature_undoes_over_and_under_confidence(scale: float) -> None:
    logits, labels = _sampled(scale)
    assert fit_temperature(logits, labels) == pytest.approx(scale, rel=0.1)


def test_a_validation_set_without_mistakes_cannot_sharpen_without_bound() -> None:
    logits = np.eye(4) * 5.0
    assert fit_temperature(logits, [0, 1, 2, 3]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="one row of logits per label"):
        fit_temperature(logits, [0, 1])
