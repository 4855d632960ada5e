"""From class probabilities to a housing score, and from imagery tiles up to sensor tiles.

The housing score is a vulnerability index in [0, 1]: the expected value, under the
model's class probabilities, of a weight given to each housing class. Classes that are not
housing weigh 0, so a tile the model is sure is forest scores 0 whatever it looks like.
The default weights rank the housing types of the training data by how an event would hit
the people living there: light structures packed together (mobile home parks, the nearest
analogue in the data to self-built homes under light roofs) first, then crowding (dense
residential), then density falling off; large engineered buildings last. They are a
judgement, written in one place so a team can change them for their own classes
(`vigia train --housing FILE`), and they travel inside each model file.

Sensors sit on coarser tiles than the imagery (zoom 17 against about 19): a sensor tile's
assessment is rolled up from the imagery tiles inside it: the mean score, the share of
sub-tiles at or above PRECARIOUS, the class covering most sub-tiles, and the mean of the
sub-tile embeddings, normalised again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

DEFAULT_HOUSING_WEIGHTS: Mapping[str, float] = {
    "mobilehomepark": 1.0,
    "denseresidential": 0.8,
    "mediumresidential": 0.5,
    "sparseresidential": 0.25,
    "buildings": 0.15,
}
PRECARIOUS = 0.6  # a sub-tile at or above this score counts toward the precarious share


def class_weights(classes: Sequence[str], housing: Mapping[str, float]) -> NDArray[np.float32]:
    unknown = sorted(set(housing) - set(classes))
    if unknown:
        raise ValueError(f"housing weights name classes the model does not have: {', '.join(unknown)}")
    bad = {name: w for name, w in housing.items() if not 0.0 <= w <= 1.0}
    if bad:
        raise ValueError(f"housing weights must lie in [0, 1]: {bad}")
    return np.array([housing.get(name, 0.0) for name in classes], dtype=np.float32)


def housing_scores(probabilities: NDArray[np.float32], weights: NDArray[np.float32]) -> NDArray[np.float32]:
    """(N, classes) probabilities to N scores in [0, 1]."""
    scores: NDArray[np.float32] = np.clip(probabilities @ weights, 0.0, 1.0)
    return scores


@dataclass(frozen=True)
class SubTile:
    tile_id: str
    land_use_class: str
    housing_score: float
    embedding: Sequence[float]


@dataclass(frozen=True)
class RollUp:
    land_use_class: str
    housing_score: float
    precarious_share: float
    sub_tiles: int
    embedding: list[float]


def roll_up(parts: Sequence[SubTile]) -> RollUp:
    """One assessment for a coarse tile from the imagery tiles inside it."""
    if not parts:
        raise ValueError("nothing to roll up")
    scores = np.array([p.housing_score for p in parts], dtype=np.float64)
    counts = Counter(p.land_use_class for p in parts)
    top = max(counts.values())
    dominant = min(name for name, n in counts.items() if n == top)  # ties broken by name: stable
    mean = np.mean(np.array([p.embedding for p in parts], dtype=np.float64), axis=0)
    norm = float(np.linalg.norm(mean))
    return RollUp(
        land_use_class=dominant,
        housing_score=round(float(scores.mean()), 4),
        precarious_share=round(float((scores >= PRECARIOUS).mean()), 4),
        sub_tiles=len(parts),
        embedding=[round(float(v), 6) for v in (mean / norm if norm else mean)],
    )
