"""How far the model's numbers can be taken at their word: expected calibration error and reliability bins.

Two readings matter to a planner. The class confidence: of the tiles the model is 90 %
sure of, are nine in ten right? And the housing score: over the tiles scored about 0.7, is
the true housing weight about 0.7 on average? Both are binned the same way (ten equal bins
of the predicted value); the expected calibration error is the gap in each bin weighted by
its share of tiles (Naeini et al., 2015; Guo et al., 2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    tiles: int
    predicted: float  # mean predicted value in the bin
    observed: float  # mean observed value in the bin


@dataclass(frozen=True)
class Reliability:
    bins: list[Bin]
    ece: float


def reliability(predicted: Sequence[float], observed: Sequence[float], bins: int = 10) -> Reliability:
    """Binned predicted against observed values in [0, 1], and their expected calibration error."""
    p = np.clip(np.asarray(predicted, dtype=np.float64), 0.0, 1.0)
    o = np.asarray(observed, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.minimum(np.digitize(p, edges[1:-1], right=False), bins - 1)
    found: list[Bin] = []
    ece = 0.0
    for b in range(bins):
        members = index == b
        if not members.any():
            continue
        mean_p, mean_o = float(p[members].mean()), float(o[members].mean())
        found.append(Bin(float(edges[b]), float(edges[b + 1]), int(members.sum()), mean_p, mean_o))
        ece += members.mean() * abs(mean_p - mean_o)
    return Reliability(found, round(float(ece), 4))


def confidence(probabilities: np.ndarray, labels: Sequence[int]) -> Reliability:
    """The top class's probability against whether it was right."""
    top = probabilities.argmax(axis=1)
    return reliability(probabilities.max(axis=1).tolist(), (top == np.asarray(labels)).astype(float).tolist())


def housing(probabilities: np.ndarray, labels: Sequence[int], weights: np.ndarray) -> Reliability:
    """The housing score (expected housing weight) against the true class's housing weight."""
    return reliability((probabilities @ weights).tolist(), weights[np.asarray(labels)].tolist())


MIN_TEMPERATURE_TILES = 100  # fewer validation tiles than this fit a temperature to noise
_TEMPERATURES = np.exp(np.linspace(np.log(0.25), np.log(4.0), 241))


def fit_temperature(logits: np.ndarray, labels: Sequence[int]) -> float:
    """The temperature T minimising the negative log-likelihood of softmax(logits / T) (Guo et al., 2017).

    Label smoothing trains a model to claim less than it knows; one scalar fitted on the
    validation tiles gives that back without changing any tile's class. A grid over 0.25 to
    4 in log steps: the likelihood has one minimum in T, and bounds keep a validation set
    with no mistakes (whose likelihood only improves as T falls) from an absurd sharpening.
    """
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    if z.ndim != 2 or len(z) != len(y) or len(y) == 0:
        raise ValueError(f"need one row of logits per label, got {z.shape} for {len(y)} labels")
    z = z - z.max(axis=1, keepdims=True)
    chosen = z[np.arange(len(y)), y]

    def nll(t: float) -> float:
        scaled = z / t
        return float(np.mean(np.log(np.exp(scaled).sum(axis=1)) - chosen / t))

    return float(min(_TEMPERATURES, key=nll))
