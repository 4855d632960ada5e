"""Change between acquisitions: the pure comparison, and its threshold held between the shared tiles' pairs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from inference.assessor import Assessor
from inference.change import DISTANCE, Kind, Seen, compare, cosine_distance, detail
from inference.change_calibration import measure
from vigia.settings import Settings

THEN, NOW = datetime(2025, 9, 1, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)


def seen(embedding: list[float], cls: str = "forest", score: float = 0.0, built: float = 0.1, green: float = 0.6,
         at: datetime = THEN) -> Seen:  # fmt: skip
    return Seen(at, cls, score, embedding, {"built_up_fraction": built, "vegetation_fraction": green})


def test_the_same_embedding_is_no_change_whatever_the_features_say() -> None:
    found = compare(seen([1.0, 0.0]), seen([1.0, 0.0], built=0.6, at=NOW))
    assert found.distance == pytest.approx(0.0)
    assert found.kind is Kind.CONSTRUCTION
    assert not found.significant  # the model saw the same place: a shadow, a season


def test_houses_on_a_cleared_slope_are_construction() -> None:
    found = compare(seen([1.0, 0.0]), seen([0.0, 1.0], "denseresidential", 0.8, built=0.55, green=0.05, at=NOW))
    assert found.significant
    assert found.kind is Kind.CONSTRUCTION
    assert (found.class_before, found.class_after) == ("forest", "denseresidential")
    assert found.built_up_delta == pytest.approx(0.45)
    line = detail(found, THEN, NOW)
    assert line.startswith("2025-09-01 -> 2026-09-01; forest -> denseresidential; housing +0.80; built-up +45 pts")


@pytest.mark.parametrize(
    ("after", "kind"),
    [
        (seen([0.0, 1.0], "denseresidential", 0.5, built=0.1, green=0.6, at=NOW), Kind.LOSS),  # from 0.8 below
        (seen([0.0, 1.0], "chaparral", 0.8, built=0.6, green=0.1, at=NOW), Kind.CLEARING),
        (seen([0.0, 1.0], "river", 0.8, built=0.6, green=0.6, at=NOW), Kind.LAND_USE),
    ],
)
def test_what_moved_names_the_kind_of_change(after: Seen, kind: Kind) -> None:
    before = seen([1.0, 0.0], "denseresidential", 0.8, built=0.6)
    assert compare(before, after).kind is kind


def test_cosine_distance() -> None:
    assert cosine_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    assert cosine_distance([1, 0], [-1, 0]) == pytest.approx(2.0)
    assert cosine_distance([0, 0], [1, 0]) == 1.0


@pytest.mark.slow
def test_the_threshold_lies_between_a_tile_seen_twice_and_tiles_of_different_classes() -> None:
    root = Settings().imagery_dir / "ucmerced"
    by_class: dict[str, list[Path]] = {c.name: sorted(c.glob("*.jpg"))[-2:] for c in sorted(root.iterdir())}
    pairs = measure(Assessor.from_file(), by_class)
    assert max(pairs.same) < DISTANCE < min(pairs.different)
    assert pairs.same_fired == 0
    assert pairs.different_fired >= 0.9 * len(pairs.different)
