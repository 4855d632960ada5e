"""Coverage gaps: precarious housing that no sensor watches, ranked as where to install the next sensors.

Pure code over the newest assessment of each imagery tile and the sensors' positions. A
tile is watched when a sensor stands in it or in one of its eight neighbours at the same
zoom (about 225 m across at zoom 19): a water-pressure or mains sensor there speaks for the
supply of the homes around it. A tile is a gap when its housing score is at least
`PRECARIOUS` and nobody watches it.

Gaps are ranked by need: the housing score (how precarious) times the built-up fraction
the imagery shows (a proxy for how many homes there are, as no census reaches block level
in these settlements), with a floor so a precarious tile the features read as sparse still
counts. The figure ranks; it is not a population estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import mercantile

from vigia.tiles import parse_tile_id

PRECARIOUS = 0.6
BUILT_UP_FLOOR = 0.25  # a precarious tile counts at least a quarter, however sparse its roofs look


@dataclass(frozen=True)
class Assessed:
    tile_id: str  # z/x/y at the imagery zoom
    housing_score: float
    built_up_fraction: float | None
    land_use_class: str


@dataclass(frozen=True)
class Gap:
    rank: int
    tile_id: str
    housing_score: float
    built_up_fraction: float | None
    land_use_class: str
    need: float
    nearest_sensor_m: float | None  # from the tile's centre; None when the district has no sensor


def need(housing_score: float, built_up_fraction: float | None) -> float:
    built = BUILT_UP_FLOOR if built_up_fraction is None else max(BUILT_UP_FLOOR, min(built_up_fraction, 1.0))
    return round(housing_score * built, 4)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance: enough for ranking within a district."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def gaps(
    assessed: Iterable[Assessed], sensors: Iterable[tuple[float, float]], *, threshold: float = PRECARIOUS
) -> list[Gap]:
    """The unwatched precarious tiles, most in need first. `sensors` are (longitude, latitude)."""
    positions = list(sensors)
    watched_at: dict[int, set[tuple[int, int]]] = {}  # per zoom, the tiles a sensor stands in
    found: list[tuple[float, Assessed, float | None]] = []
    for tile in assessed:
        if tile.housing_score < threshold:
            continue
        xyz = parse_tile_id(tile.tile_id)
        if xyz.z not in watched_at:
            watched_at[xyz.z] = {(t.x, t.y) for lon, lat in positions for t in [mercantile.tile(lon, lat, xyz.z)]}
        watched = watched_at[xyz.z]
        if any((xyz.x + dx, xyz.y + dy) in watched for dx in (-1, 0, 1) for dy in (-1, 0, 1)):
            continue
        bounds = mercantile.bounds(xyz)
        lon, lat = (bounds.west + bounds.east) / 2, (bounds.south + bounds.north) / 2
        nearest = min((_metres(lon, lat, s_lon, s_lat) for s_lon, s_lat in positions), default=None)
        found.append((need(tile.housing_score, tile.built_up_fraction), tile, nearest))
    found.sort(key=lambda item: (-item[0], -item[1].housing_score, item[1].tile_id))
    return [
        Gap(rank, t.tile_id, t.housing_score, t.built_up_fraction, t.land_use_class, score,
            None if nearest is None else round(nearest))
        for rank, (score, t, nearest) in enumerate(found, start=1)
    ]  # fmt: skip
