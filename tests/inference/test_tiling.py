from pathlib import Path

import cv2
import mercantile
import numpy as np
import pytest

from inference import tiling
from tests.inference.scenes import mosaic, write_scene
from vigia.settings import Settings

DENSE = sorted((Settings().imagery_dir / "ucmerced" / "denseresidential").glob("*.jpg"))


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return mosaic(DENSE[:4], 2)  # 512 x 512 px, about 154 m a side


def test_scene_is_cut_into_zoom_tiles_with_partial_edges(tmp_path: Path, rgb: np.ndarray) -> None:
    report = tiling.CutReport()
    tiles = list(tiling.cut_scene(write_scene(tmp_path / "s.tif", rgb), 19, report=report))
    assert report.tiles == len(tiles) > 0
    assert report.partial > 0
    assert report.skipped_no_data > 0
    for tile in tiles:
        t = mercantile.Tile(*(int(v) for v in tile.tile_id.split("/")[1:]), 19)
        assert tile.tile_id.startswith("19/")
        assert tile.rgb is not None
        assert tile.rgb.shape == (256, 256, 3)
        assert tile.valid_fraction >= 0.5
        west, south, east, north = mercantile.bounds(t)
        assert -12.1 < south < north < -11.9
        assert -77.1 < west < east < -76.9
    full = [t for t in tiles if t.valid_fraction == 1.0]
    assert full
    assert all(t.rgb is not None and t.rgb.min(axis=2).max() > 0 for t in full)
    partial = [t for t in tiles if t.valid_fraction < 1.0]
    assert all(t.rgb is not None and (t.rgb.sum(axis=2) > 0).mean() > 0.99 for t in partial)  # edges filled, not black


def test_sixteen_bit_scene_is_stretched_and_single_band_read_as_grey(tmp_path: Path, rgb: np.ndarray) -> None:
    deep = (rgb.astype(np.uint16) * 16 + 1000).astype(np.uint16)  # 12-bit imagery in 16-bit samples
    tiles = list(tiling.cut_scene(write_scene(tmp_path / "deep.tif", deep), 19))
    values = np.concatenate([t.rgb.ravel() for t in tiles if t.rgb is not None and t.valid_fraction == 1.0])
    assert values.min() < 30
    assert values.max() > 225
    report = tiling.CutReport()
    grey = list(tiling.cut_scene(write_scene(tmp_path / "grey.tif", rgb[:, :, 1]), 19, report=report))
    assert grey
    assert all(t.rgb is not None and np.array_equal(t.rgb[:, :, 0], t.rgb[:, :, 2]) for t in grey)
    assert "single band" in report.warnings[0]


def test_scene_in_geographic_coordinates_lands_on_the_same_grid(tmp_path: Path, rgb: np.ndarray) -> None:
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "wgs84.tif"
    profile = {"driver": "GTiff", "width": 512, "height": 512, "count": 3, "dtype": "uint8", "crs": "EPSG:4326"}
    with rasterio.open(path, "w", **profile, transform=from_origin(-76.95, -12.02, 2.7e-6, 2.7e-6)) as dst:
        dst.write(rgb.transpose(2, 0, 1))
    tiles = list(tiling.cut_scene(path, 19))
    assert tiles
    assert all(t.tile_id.startswith("19/") for t in tiles)


def test_unusable_scenes_say_why(tmp_path: Path, rgb: np.ndarray) -> None:
    (tmp_path / "junk.tif").write_bytes(b"II*\x00junk")
    with pytest.raises(tiling.SceneError, match="not a readable raster"):
        list(tiling.cut_scene(tmp_path / "junk.tif", 19))
    import rasterio

    with rasterio.open(tmp_path / "nocrs.tif", "w", driver="GTiff", width=64, height=64, count=3, dtype="uint8") as dst:
        dst.write(rgb[:64, :64].transpose(2, 0, 1))
    with pytest.raises(tiling.SceneError, match="coordinate reference system"):
        list(tiling.cut_scene(tmp_path / "nocrs.tif", 19))
    floats = write_scene(tmp_path / "float.tif", rgb.astype(np.float32))
    with pytest.raises(tiling.SceneError, match="float32"):
        list(tiling.cut_scene(floats, 19))


def test_folder_tiles_by_name_and_by_bounds(tmp_path: Path) -> None:
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "19_150041_279759.png"), image)
    (tmp_path / "17" / "37510").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "17" / "37510" / "69939.jpg"), image)
    cv2.imwrite(str(tmp_path / "survey-a.png"), image)
    cv2.imwrite(str(tmp_path / "holiday.png"), image)
    (tmp_path / "tiles.csv").write_text(
        "file,west,south,east,north\nsurvey-a.png,-76.9501,-12.0201,-76.9499,-12.0199\n"
    )
    report = tiling.CutReport()
    found = {t.source: t for t in tiling.folder_tiles(tmp_path, 19, report=report)}
    assert found["19_150041_279759.png"].tile_id == "19/150041/279759"
    assert found["17/37510/69939.jpg"].tile_id == "17/37510/69939"
    expected = mercantile.tile(-76.95, -12.02, 19)
    assert found["survey-a.png"].tile_id == f"19/{expected.x}/{expected.y}"
    assert report.skipped_unnamed == ["holiday.png"]
    assert found["19_150041_279759.png"].data is not None


def test_a_scene_far_coarser_than_the_zoom_is_refused_before_a_single_tile(tmp_path: Path, rgb: np.ndarray) -> None:
    landsat = write_scene(tmp_path / "landsat.tif", rgb, metres_per_pixel=30.0)  # 15 km a side
    report = tiling.CutReport()
    tiles = tiling.cut_scene(landsat, 19, report=report)
    with pytest.raises(tiling.SceneError, match=r"30 m a pixel .* --zoom 14 or coarser"):
        next(tiles)
    assert report.tiles == 0
    assert report.metres_per_pixel == pytest.approx(30.0)
    assert len(list(tiling.cut_scene(landsat, 14))) >= 1  # at the zoom it fits, it is cut


def test_a_scene_making_more_tiles_than_the_limit_is_refused_with_the_count(tmp_path: Path, rgb: np.ndarray) -> None:
    scene = write_scene(tmp_path / "wide.tif", rgb, metres_per_pixel=1.0)  # 512 m a side, 1 m a pixel, zoom 18
    with pytest.raises(tiling.SceneError, match=r"tiles at zoom 18 is more than the limit of 10"):
        next(tiling.cut_scene(scene, 18, max_tiles=10))
    assert len(list(tiling.cut_scene(scene, 18, max_tiles=None))) > 10


def test_a_truncated_scene_says_so_in_one_line_instead_of_gdals_traceback(tmp_path: Path) -> None:
    whole = write_scene(tmp_path / "whole.tif", mosaic(DENSE[:16], 4))  # 1,024 px in 256 px blocks
    data = whole.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(tiling.SceneError, match=r"cut.tif: damaged or truncated, stopped after \d+ tiles") as caught:
        list(tiling.cut_scene(cut, 19))
    assert "\n" not in str(caught.value)


def test_a_folder_tile_that_is_no_image_is_skipped_with_its_reason(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "19_150041_279759.png"), np.zeros((64, 64, 3), dtype=np.uint8))
    (tmp_path / "19_150042_279759.jpg").write_bytes(b"\xff\xd8\xff\xe0 half a jpeg")
    report = tiling.CutReport()
    found = [t.tile_id for t in tiling.folder_tiles(tmp_path, 19, report=report)]
    assert found == ["19/150041/279759"]
    [skipped] = report.skipped_unreadable
    assert skipped.startswith("19_150042_279759.jpg: ")
