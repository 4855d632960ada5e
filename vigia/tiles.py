"""XYZ tile ids: where a sensor or an image sits on the web-mercator grid."""

from __future__ import annotations

import mercantile


def tile_id_for(latitude: float, longitude: float, zoom: int) -> str:
    tile = mercantile.tile(longitude, latitude, zoom)
    return f"{tile.z}/{tile.x}/{tile.y}"


def parse_tile_id(tile_id: str) -> mercantile.Tile:
    try:
        z, x, y = (int(part) for part in tile_id.split("/"))
    except ValueError as exc:
        raise ValueError(f"tile id must be 'z/x/y', got {tile_id!r}") from exc
    if not 0 <= z <= 30 or not (0 <= x < 2**z and 0 <= y < 2**z):
        raise ValueError(f"tile id {tile_id!r} is outside the grid")
    return mercantile.Tile(x, y, z)


def parent_tile(tile_id: str, zoom: int) -> str:
    """The tile at `zoom` containing `tile_id` (itself when already at or above it)."""
    tile = parse_tile_id(tile_id)
    if tile.z <= zoom:
        return tile_id
    parent = mercantile.parent(tile, zoom=zoom)
    return f"{parent.z}/{parent.x}/{parent.y}"
