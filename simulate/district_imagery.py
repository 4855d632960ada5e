"""Imagery for a simulated district: real aerial tiles laid out over the sensors' tiles.

There is no aerial imagery of the simulated district, so the demo composes it from the
shared UC Merced tiles: each sensor tile gets a seeded character (an informal hillside, a
consolidated neighbourhood, the settlement's edge) and its imagery tiles are drawn from
the classes that character is made of. The model then assesses them like any imagery,
so the stream's join and the alerts see varied housing, not a constant.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import mercantile

from inference.tiling import ImageTile
from vigia.tiles import parse_tile_id

CHARACTERS: Mapping[str, Mapping[str, float]] = {
    "informal hillside": {"mobilehomepark": 0.4, "denseresidential": 0.35, "chaparral": 0.25},
    "consolidated": {"mediumresidential": 0.5, "denseresidential": 0.2, "buildings": 0.15, "intersection": 0.15},
    "edge": {"sparseresidential": 0.4, "chaparral": 0.3, "agricultural": 0.2, "river": 0.1},
}


def character_of(sensor_tile: str, seed: int) -> str:
    return random.Random(f"{seed}:{sensor_tile}").choice(sorted(CHARACTERS))


def district_tiles(
    sensor_tiles: Sequence[str], *, imagery_root: Path, zoom: int, seed: int, captured_at: datetime
) -> Iterator[ImageTile]:
    """Every imagery tile at `zoom` inside the given sensor tiles, as encoded JPEG bytes."""
    pools = {name: sorted((imagery_root / name).glob("*.jpg")) for weights in CHARACTERS.values() for name in weights}
    missing = [name for name, files in pools.items() if not files]
    if missing:
        raise FileNotFoundError(f"no tiles for {', '.join(missing)} under {imagery_root}")
    for sensor_tile in sorted(set(sensor_tiles)):
        character = CHARACTERS[character_of(sensor_tile, seed)]
        rng = random.Random(f"{seed}:{sensor_tile}:tiles")
        for child in mercantile.children(parse_tile_id(sensor_tile), zoom=zoom):
            name = rng.choices(list(character), weights=list(character.values()))[0]
            path = rng.choice(pools[name])
            yield ImageTile(
                tile_id=f"{child.z}/{child.x}/{child.y}",
                source=f"simulated:{name}/{path.name}",
                captured_at=captured_at,
                data=path.read_bytes(),
            )
