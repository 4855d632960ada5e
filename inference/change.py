"""Change between two acquisitions of one tile: is it the same place seen again, or did the place change?

Pure code over two assessments by the same model. The evidence is the distance between
their embeddings (cosine, 0 the same, up to 2), which the model learned to make small for
the same kind of ground and large across kinds; the class, the housing score and the
interpretable features then say what changed, in words a planner uses.

`DISTANCE` is calibrated on the shared tiles (`make bench-change`, ten tiles of each of the
21 classes): a tile against itself re-lit, blurred, shifted and re-encoded, as a second
flight or another camera would see it, has a median distance of 0.01, a 99th percentile of
0.07 and a maximum of 0.10; a tile against one of another class is never below 0.53. A
change is significant when the distance passes 0.35 and something a person can name moved
with it: the class, the housing score by 0.2, or the built-up or vegetated share by 0.15.
The distance alone (a cloud shadow, a new season) is reported, not alerted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DISTANCE = 0.35
HOUSING_STEP = 0.2
FRACTION_STEP = 0.15


class Kind(StrEnum):
    CONSTRUCTION = "construction"  # more built up, or housing where there was none
    LOSS = "loss"  # fewer roofs: demolition, a landslide, a storm
    CLEARING = "clearing"  # vegetation gone: a slope cleared, often before building on it
    LAND_USE = "land-use"  # the place is another kind of place, none of the above
    NONE = "none"


@dataclass(frozen=True)
class Seen:
    """One acquisition's assessment of the tile."""

    captured_at: datetime
    land_use_class: str
    housing_score: float
    embedding: Sequence[float]
    features: Mapping[str, float]


@dataclass(frozen=True)
class Change:
    distance: float
    housing_delta: float
    built_up_delta: float
    vegetation_delta: float
    class_before: str
    class_after: str
    kind: Kind
    significant: bool


def cosine_distance(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / norms if norms else 1.0


def _kind(built: float, vegetation: float, housing: float, class_changed: bool) -> Kind:
    if built >= FRACTION_STEP or housing >= HOUSING_STEP:
        return Kind.CONSTRUCTION
    if built <= -FRACTION_STEP or housing <= -HOUSING_STEP:
        return Kind.LOSS
    if vegetation <= -FRACTION_STEP:
        return Kind.CLEARING
    return Kind.LAND_USE if class_changed else Kind.NONE


def compare(before: Seen, after: Seen, *, distance_threshold: float = DISTANCE) -> Change:
    """What changed from `before` to `after`; both must come from the same model."""
    distance = cosine_distance(before.embedding, after.embedding)
    housing = after.housing_score - before.housing_score
    built = after.features.get("built_up_fraction", 0.0) - before.features.get("built_up_fraction", 0.0)
    vegetation = after.features.get("vegetation_fraction", 0.0) - before.features.get("vegetation_fraction", 0.0)
    class_changed = after.land_use_class != before.land_use_class
    kind = _kind(built, vegetation, housing, class_changed)
    return Change(
        distance=round(distance, 4),
        housing_delta=round(housing, 4),
        built_up_delta=round(built, 4),
        vegetation_delta=round(vegetation, 4),
        class_before=before.land_use_class,
        class_after=after.land_use_class,
        kind=kind,
        significant=distance >= distance_threshold and kind is not Kind.NONE,
    )


TITLES = {
    Kind.CONSTRUCTION: ("Nueva construcción vista desde el aire", "New construction seen from the air"),
    Kind.LOSS: ("Techos perdidos vistos desde el aire", "Roofs lost, seen from the air"),
    Kind.CLEARING: ("Vegetación despejada vista desde el aire", "Vegetation cleared, seen from the air"),
    Kind.LAND_USE: ("El lugar cambió visto desde el aire", "The place changed, seen from the air"),
}


def detail(change: Change, before: datetime, after: datetime) -> str:
    """One line for the alert: the dates and what moved, in figures both languages read."""
    parts = [f"{before:%Y-%m-%d} -> {after:%Y-%m-%d}"]
    if change.class_before != change.class_after:
        parts.append(f"{change.class_before} -> {change.class_after}")
    parts.append(f"housing {change.housing_delta:+.2f}")
    parts.append(f"built-up {100 * change.built_up_delta:+.0f} pts")
    if abs(change.vegetation_delta) >= FRACTION_STEP:
        parts.append(f"vegetation {100 * change.vegetation_delta:+.0f} pts")
    parts.append(f"distance {change.distance:.2f}")
    return "; ".join(parts)
