"""Readings that contradict the imagery or the neighbours, each flagged with why."""

from __future__ import annotations

import mercantile

from api.plausibility import Ground, Placed, flood_without_water, never_supplied, sensor_without_buildings

LAT, LON = -12.02, -76.95
HOME = mercantile.tile(LON, LAT, 19)


def ground_at(dx: int, dy: int, cls: str, score: float = 0.0, built: float | None = 0.0) -> Ground:
    return Ground(f"19/{HOME.x + dx}/{HOME.y + dy}", cls, score, built)


def grid(cls: str, **overrides: str) -> dict[str, Ground]:
    """A 9 x 9 patch of one class, with some tiles ('dx,dy') of another."""
    tiles = {}
    for dx in range(-4, 5):
        for dy in range(-4, 5):
            g = ground_at(dx, dy, overrides.get(f"{dx},{dy}", cls))
            tiles[g.tile_id] = g
    return tiles


FLOOD = Placed("f1", "flood", LAT, LON)


def test_water_reported_on_a_dry_hillside_far_from_a_river_is_flagged_with_why() -> None:
    [flag] = flood_without_water([FLOOD], {"f1": 0.4}, grid("chaparral"))
    assert flag.rule == "flood-without-water"
    assert "0.40 m of water" in flag.reason_en
    assert "chaparral" in flag.reason_en
    assert "matorral" in flag.reason_es


def test_a_river_within_reach_a_dry_reading_or_no_imagery_raise_nothing() -> None:
    assert flood_without_water([FLOOD], {"f1": 0.4}, grid("chaparral", **{"3,-2": "river"})) == []
    assert flood_without_water([FLOOD], {"f1": 0.4}, grid("chaparral", **{"4,0": "river"}))  # beyond reach
    assert flood_without_water([FLOOD], {"f1": 0.02}, grid("chaparral")) == []
    assert flood_without_water([FLOOD], {"f1": 0.4}, {}) == []
    assert flood_without_water([FLOOD], {}, grid("chaparral")) == []


def test_a_sensor_where_the_imagery_shows_no_buildings_is_flagged() -> None:
    water = Placed("w1", "water", LAT, LON)
    [flag] = sensor_without_buildings([water], {g.tile_id: g for g in [ground_at(0, 0, "forest", 0.0, 0.01)]})
    assert "forest with 1 % built up" in flag.reason_en
    housed = {g.tile_id: g for g in [ground_at(0, 0, "denseresidential", 0.8, 0.5)]}
    assert sensor_without_buildings([water], housed) == []
    roofs = {g.tile_id: g for g in [ground_at(0, 0, "parkinglot", 0.0, 0.3)]}
    assert sensor_without_buildings([water], roofs) == []  # something is built there


def test_a_water_sensor_that_never_sees_the_supply_its_neighbours_see_is_flagged() -> None:
    days = {"a": [6.0, 5.5, 7.0, 6.2], "b": [4.0, 6.0, 5.0, 5.5], "c": [6.5, 6.0, 0.0, 6.0], "dry": [0, 0, 0.2, 0]}
    [flag] = never_supplied(days)
    assert flag.sensor_id == "dry"
    assert "no supply in 4 days" in flag.reason_en
    assert "3 other water sensors" in flag.reason_en


def test_a_dry_district_or_too_few_days_is_not_one_sensors_fault() -> None:
    assert never_supplied({"a": [0, 0, 0], "b": [0, 0, 0], "c": [0, 0, 0]}) == []
    assert never_supplied({"a": [6, 6, 6], "b": [6, 6, 6], "new": [0, 0]}) == []
    assert never_supplied({"a": [6, 6, 6], "dry": [0, 0, 0]}) == []  # one neighbour is not a district
