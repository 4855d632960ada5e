from __future__ import annotations

from datetime import UTC, datetime

from stream.tiles import housing_for
from vigia.contracts import TileEmbedding


def test_missing_tile_is_unassessed_never_dropped() -> None:
    housing = housing_for({}, "17/1/1")
    assert housing.land_use_class == "unassessed"
    assert housing.embedding_id is None


def test_known_tile_gives_its_latest_assessment() -> None:
    embedding = TileEmbedding(
        tile_id="17/1/1",
        model_version="cnn-2026.03",
        computed_at=datetime(2026, 3, 1, tzinfo=UTC),
        land_use_class="denseresidential",
        housing_score=0.91,
        embedding=[0.1, 0.2],
    )
    housing = housing_for({"17/1/1": embedding.model_dump(mode="json")}, "17/1/1")
    assert housing.embedding_id == embedding.embedding_id
    assert housing.housing_score == 0.91


def test_unreadable_assessment_counts_as_unassessed() -> None:
    assert housing_for({"17/1/1": {"tile_id": "17/1/1"}}, "17/1/1").land_use_class == "unassessed"
