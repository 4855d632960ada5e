"""The rule for a scene's ground resolution against a tile zoom, shared by the imagery command and the upload."""

from __future__ import annotations

import pytest

from vigia import scenes

LIMA = -12.05


def test_a_zoom_19_pixel_in_lima_is_about_thirty_centimetres() -> None:
    assert scenes.zoom_resolution(19, LIMA) == pytest.approx(0.292, abs=0.002)
    assert scenes.zoom_resolution(18, LIMA) == pytest.approx(2 * scenes.zoom_resolution(19, LIMA))


@pytest.mark.parametrize(("metres", "zoom"), [(0.3, 20), (1.1, 19), (1.3, 18), (10.0, 15), (30.0, 14), (250.0, 11)])
def test_the_finest_zoom_a_scene_fits_is_where_it_is_at_most_four_times_coarser(metres: float, zoom: int) -> None:
    assert scenes.finest_fitting_zoom(metres, LIMA) == zoom
    scenes.check_resolution("scene.tif", metres, zoom, LIMA)  # fits: no refusal
    with pytest.raises(scenes.SceneRefused):
        scenes.check_resolution("scene.tif", metres, zoom + 1, LIMA)


def test_a_landsat_scene_at_zoom_19_is_refused_naming_the_zoom_that_fits() -> None:
    with pytest.raises(scenes.SceneRefused, match=r"landsat.tif: 30 m a pixel is 103x coarser .* --zoom 14 or coarser"):
        scenes.check_resolution("landsat.tif", 30.0, 19, LIMA)


def test_too_many_tiles_are_refused_with_the_count_and_the_way_out() -> None:
    scenes.check_tile_count("s.tif", 20_000, 19, 20_000)
    with pytest.raises(scenes.SceneRefused, match=r"40,560 tiles at zoom 19 .* limit of 20,000.*--max-tiles"):
        scenes.check_tile_count("s.tif", 40_560, 19, 20_000)


def test_pixel_sizes_in_degrees_and_in_web_mercator_are_ground_metres() -> None:
    degrees = scenes.ground_resolution(2.7e-6, -2.7e-6, geographic=True, web_mercator=False, latitude=LIMA)
    assert degrees == pytest.approx(0.30, abs=0.01)
    mercator = scenes.ground_resolution(0.3, -0.3, geographic=False, web_mercator=True, latitude=LIMA)
    assert mercator == pytest.approx(0.3 * 0.978, abs=0.001)  # mercator metres are longer than the ground's
    feet = scenes.ground_resolution(1.0, -1.0, geographic=False, web_mercator=False, latitude=LIMA, unit_m=0.3048)
    assert feet == pytest.approx(0.3048)
