"""Coverage gaps: precarious tiles no sensor watches, most in need first."""

from __future__ import annotations

import mercantile
import pytest

from api.coverage import Assessed, gaps, need

LON, LAT = -76.97, -12.07
HOME = mercantile.tile(LON, LAT, 19)


def at(dx: int, dy: int, score: float, built: float | None = 0.5, cls: str = "denseresidential") -> Assessed:
    return Assessed(f"19/{HOME.x + dx}/{HOME.y + dy}", score, built, cls)


def test_a_sensor_watches_its_tile_and_the_eight_around_it() -> None:
    tiles = [at(dx, dy, 0.9) for dx in range(-2, 3) for dy in range(-2, 3)]
    found = {g.tile_id for g in gaps(tiles, [(LON, LAT)])}
    assert len(found) == 25 - 9  # the ring two tiles out
    assert f"19/{HOME.x}/{HOME.y}" not in found
    assert f"19/{HOME.x + 2}/{HOME.y}" in found


def test_only_precarious_tiles_are_gaps() -> None:
    found = gaps([at(5, 0, 0.59), at(6, 0, 0.6)], [(LON, LAT)])
    assert [g.tile_id for g in found] == [f"19/{HOME.x + 6}/{HOME.y}"]


def test_the_most_precarious_and_most_built_up_come_first_with_the_distance_to_a_sensor() -> None:
    found = gaps([at(5, 0, 0.7, 0.9), at(6, 0, 0.95, 0.3), at(10, 0, 0.95, 0.8)], [(LON, LAT)])
    assert [g.rank for g in found] == [1, 2, 3]
    assert [g.tile_id.split("/")[1] for g in found] == [str(HOME.x + 10), str(HOME.x + 5), str(HOME.x + 6)]
    assert found[0].nearest_sensor_m == pytest.approx(10 * 73, rel=0.1)  # ten tiles of about 73 m at Lima


def test_a_district_without_sensors_has_every_precarious_tile_as_a_gap() -> None:
    found = gaps([at(0, 0, 0.8), at(1, 0, 0.2)], [])
    assert [(g.tile_id, g.nearest_sensor_m) for g in found] == [(f"19/{HOME.x}/{HOME.y}", None)]


def test_need_has_a_floor_for_sparse_looking_roofs_and_without_features() -> None:
    assert need(0.8, 0.05) == pytest.approx(0.2)
    assert need(0.8, None) == pytest.approx(0.2)
    assert need(0.8, 1.4) == pytest.approx(0.8)
