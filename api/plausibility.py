"""Readings that contradict what the imagery shows, or what the neighbours see: flagged for a person, not alerted.

Pure rules over values the API gathers. Each flag says why in both languages; an operator
confirms it (the sensor or its registration is wrong) or dismisses it (the ground is right
and the imagery or the neighbours mislead).

- `flood-without-water`: a flood-level sensor reports standing water where the imagery shows
  dry ground (no river, beach or harbour) in its tile and every tile within `WATER_REACH`.
- `sensor-without-buildings`: a sensor stands in a tile the imagery shows with no housing
  class and almost nothing built: its coordinates, or its registration, are likely wrong.
- `never-supplied`: a water-pressure sensor that reported every day yet never saw the daily
  supply window its district's other water sensors saw: a closed valve, a sensor on the wrong
  pipe, or a cut nobody has reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import median

import mercantile

from api.land_use import class_name
from vigia.scenes import TILE_SIDE, zoom_resolution
from vigia.tiles import parse_tile_id

WATER_CLASSES = frozenset({"river", "beach", "harbor"})
WATER_REACH = 3  # imagery tiles each way, about 220 m at zoom 19
FLOOD_SEEN_M = 0.10  # metres of standing water that a flood sensor would not report on dry ground
BUILT_UP_NONE = 0.05  # below this share of roofs a tile has no homes to measure
SUPPLIED_HOURS = 1.0  # a day with at least this many hours of pressure saw the supply window
MIN_DAYS = 3  # days a sensor must have reported before its silence on supply means anything


@dataclass(frozen=True)
class Ground:
    """The newest assessment of one imagery tile."""

    tile_id: str
    land_use_class: str
    housing_score: float
    built_up_fraction: float | None


@dataclass(frozen=True)
class Placed:
    sensor_id: str
    sensor_type: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Flag:
    sensor_id: str
    rule: str
    reason_en: str
    reason_es: str


def _around(sensor: Placed, zoom: int, reach: int) -> list[str]:
    centre = mercantile.tile(sensor.longitude, sensor.latitude, zoom)
    steps = range(-reach, reach + 1)
    return [f"{zoom}/{centre.x + dx}/{centre.y + dy}" for dx in steps for dy in steps]


def _zoom(ground: Mapping[str, Ground]) -> int | None:
    return parse_tile_id(next(iter(ground))).z if ground else None


def flood_without_water(
    sensors: Iterable[Placed], highest_flood_m: Mapping[str, float], ground: Mapping[str, Ground]
) -> list[Flag]:
    zoom = _zoom(ground)
    if zoom is None:
        return []
    found = []
    for sensor in sensors:
        level = highest_flood_m.get(sensor.sensor_id)
        if level is None or level < FLOOD_SEEN_M:
            continue
        here = ground.get(_around(sensor, zoom, 0)[0])
        seen = [ground[t] for t in _around(sensor, zoom, WATER_REACH) if t in ground]
        if here is None or any(g.land_use_class in WATER_CLASSES for g in seen):
            continue  # no imagery to contradict it, or water nearby
        metres = round(WATER_REACH * TILE_SIDE * zoom_resolution(zoom, sensor.latitude), -1)
        found.append(Flag(
            sensor.sensor_id, "flood-without-water",
            f"reports {level:.2f} m of water, but the imagery shows {here.land_use_class} here and no river, beach"
            f" or harbour within {metres:.0f} m",
            f"reporta {level:.2f} m de agua, pero la imagen muestra {class_name(here.land_use_class, 'es')} aquí y"
            f" ningún río, playa ni puerto a menos de {metres:.0f} m",
        ))  # fmt: skip
    return found


def sensor_without_buildings(sensors: Iterable[Placed], ground: Mapping[str, Ground]) -> list[Flag]:
    zoom = _zoom(ground)
    if zoom is None:
        return []
    found = []
    for sensor in sensors:
        here = ground.get(_around(sensor, zoom, 0)[0])
        if here is None or here.housing_score > 0.05 or (here.built_up_fraction or 0.0) >= BUILT_UP_NONE:
            continue
        built = 100 * (here.built_up_fraction or 0.0)
        found.append(Flag(
            sensor.sensor_id, "sensor-without-buildings",
            f"registered where the imagery shows {here.land_use_class} with {built:.0f} % built up: check its"
            " coordinates",
            f"registrado donde la imagen muestra {class_name(here.land_use_class, 'es')} con {built:.0f} % construido:"
            " revise sus coordenadas",
        ))  # fmt: skip
    return found


def never_supplied(daily_hours: Mapping[str, Sequence[float]]) -> list[Flag]:
    """`daily_hours`: per water sensor, the hours with pressure on each day it reported."""
    supplied = {s: sum(h >= SUPPLIED_HOURS for h in days) / len(days) for s, days in daily_hours.items() if days}
    found = []
    for sensor, days in daily_hours.items():
        if len(days) < MIN_DAYS or any(h >= SUPPLIED_HOURS for h in days):
            continue
        others = [s for s in supplied if s != sensor and len(daily_hours[s]) >= MIN_DAYS]
        if len(others) < 2 or median(supplied[s] for s in others) < 0.5:
            continue  # no neighbours, or the whole district is dry: a cut, not a sensor
        typical = median(median(daily_hours[s]) for s in others)
        found.append(Flag(
            sensor, "never-supplied",
            f"no supply in {len(days)} days of readings, while {len(others)} other water sensors of the district see"
            f" about {typical:.1f} h a day",
            f"sin agua en {len(days)} días de lecturas, mientras otros {len(others)} sensores de agua del distrito"
            f" ven unas {typical:.1f} h al día",
        ))  # fmt: skip
    return found
