from __future__ import annotations

import pytest

from vigia.tiles import parent_tile, parse_tile_id, tile_id_for


def test_a_point_in_lima_falls_in_the_expected_tiles() -> None:
    tile = tile_id_for(-11.9760, -76.9990, 17)
    z, x, y = (int(part) for part in tile.split("/"))
    assert z == 17
    parsed = parse_tile_id(tile)
    assert (parsed.x, parsed.y, parsed.z) == (x, y, z)
    # one zoom level finer halves the tile: the child holds the same point
    child = parse_tile_id(tile_id_for(-11.9760, -76.9990, 18))
    assert (child.x // 2, child.y // 2) == (x, y)


@pytest.mark.parametrize("bad", ["17/1", "a/b/c", "17/200000/1", "-1/0/0", "40/0/0"])
def test_malformed_tile_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="tile id"):
        parse_tile_id(bad)


def test_parent_tile() -> None:
    assert parent_tile("19/150041/279759", 17) == "17/37510/69939"
    assert parent_tile("17/37510/69939", 17) == "17/37510/69939"
