"""The latest assessment of every tile, as the stream joins it: a Faust GlobalTable fed from the embeddings topic.

Every worker needs every tile (readings are keyed by sensor, assessments by tile), and a
new model's assessments are joined as soon as they arrive, without a restart.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from stream.processor import HousingOf
from vigia.contracts import HousingContext, TileEmbedding

log = logging.getLogger(__name__)


def housing_for(tiles: Any, tile_id: str) -> HousingContext:
    """The tile's latest assessment, or 'unassessed': a reading is never dropped for want of one."""
    document = tiles.get(tile_id)
    if not document:
        return HousingContext()
    try:
        return HousingContext.from_embedding(TileEmbedding.model_validate(document))
    except ValidationError:
        log.warning("tile %s has an unreadable assessment; treating it as unassessed", tile_id)
        return HousingContext()


class TileAssessments:
    def __init__(self, table: Any) -> None:
        self.table = table

    def keep(self, value: bytes) -> None:
        """Hold the newest assessment of its tile; an unreadable record is logged and skipped."""
        try:
            embedding = TileEmbedding.model_validate_json(value)
        except ValidationError as error:
            log.warning("skipping unreadable tile embedding: %s", error.errors()[:1])
            return
        self.table[embedding.tile_id] = embedding.model_dump(mode="json")

    def lookup(self) -> HousingOf:
        """One lookup per tile per batch: a batch asks for the same few tiles thousands of times."""
        seen: dict[str, HousingContext] = {}

        def housing_of(tile_id: str) -> HousingContext:
            if tile_id not in seen:
                seen[tile_id] = housing_for(self.table, tile_id)
            return seen[tile_id]

        return housing_of
