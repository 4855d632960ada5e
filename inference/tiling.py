"""Imagery to XYZ tiles: GeoTIFF scenes in any CRS, and folders of plain tiles.

Scenes are warped to web mercator through one GDAL warped VRT (rasterio), read one tile
window at a time, so a scene larger than memory is cut without loading it. A tile needs at
least `min_valid` of its pixels inside the scene's data; the rest of a partial tile is
filled with the mean colour of its valid pixels, so the model does not read the edge of a
scene as a black roof. 16-bit scenes are stretched to 8 bits between each band's 2nd and
98th percentiles (16-bit imagery rarely uses all 16 bits); a single band is read as grey.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mercantile
import numpy as np
from numpy.typing import NDArray

from inference.dataset import EXTENSIONS
from vigia import scenes
from vigia.images import RGB, ImageError, decode
from vigia.tiles import parse_tile_id

log = logging.getLogger(__name__)

TILE_SIDE = 256
WEB_MERCATOR = "EPSG:3857"


@dataclass(frozen=True)
class ImageTile:
    tile_id: str
    source: str
    captured_at: datetime
    rgb: RGB | None = None  # decoded pixels, for scenes
    data: bytes | None = None  # encoded bytes, for files taken as they are
    valid_fraction: float = 1.0


@dataclass
class CutReport:
    """What cutting a scene or reading a folder found, for the progress line and the summary."""

    tiles: int = 0
    planned: int = 0  # tiles of the grid the scene covers, before those without data are skipped
    metres_per_pixel: float | None = None
    partial: int = 0
    skipped_no_data: int = 0
    skipped_unnamed: list[str] = field(default_factory=list)
    skipped_unreadable: list[str] = field(default_factory=list)  # each with what is wrong with it
    warnings: list[str] = field(default_factory=list)


class SceneError(ValueError):
    """A scene or folder that cannot be cut into tiles, with what is wrong."""


def is_scene(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in {".tif", ".tiff", ".vrt", ".jp2"}


def _captured_at(tags: dict[str, str], path: Path) -> datetime:
    stamp = tags.get("TIFFTAG_DATETIME")
    if stamp:
        try:
            return datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.fromtimestamp(int(path.stat().st_mtime), UTC)


def _stretch(sample: NDArray[np.generic], valid: NDArray[np.bool_]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-band 2nd and 98th percentiles of valid pixels."""
    lows, highs = [], []
    for band in sample:
        values = band[valid] if valid.any() else band.ravel()
        lo, hi = np.percentile(values, [2, 98]) if values.size else (0.0, 1.0)
        lows.append(float(lo))
        highs.append(float(hi) if hi > lo else float(lo) + 1.0)
    return np.array(lows), np.array(highs)


def _gdal_says(error: Exception) -> str:
    """GDAL's own words: rasterio's read error only points to the exception before it."""
    cause = error.__cause__ or error.__context__
    return str(cause or error).strip().splitlines()[0][:200]


def cut_scene(
    path: Path,
    zoom: int,
    *,
    min_valid: float = 0.5,
    report: CutReport | None = None,
    max_tiles: int | None = scenes.MAX_TILES,
    coarseness: float = scenes.MAX_COARSENESS,
) -> Iterator[ImageTile]:
    """The scene's tiles at `zoom`, in row order. Tiles with too little data are counted, not yielded.

    Refused before the first tile (`SceneError`): a scene more than `coarseness` times coarser
    than the zoom's pixel, or one that would make more than `max_tiles` tiles. A scene that
    turns out damaged part-way raises `SceneError` too, so a caller must hold the tiles back
    until the last one was read (see `inference/spool.py`)."""
    import rasterio
    from rasterio.errors import CRSError, RasterioError

    report = report if report is not None else CutReport()
    try:
        src = rasterio.open(path)
    except RasterioError as error:
        raise SceneError(f"{path}: not a readable raster ({_gdal_says(error)})") from error
    with src:
        try:
            yield from _cut(src, path, zoom, min_valid, report, max_tiles, coarseness)
        except scenes.SceneRefused as error:
            raise SceneError(str(error)) from error
        except (RasterioError, CRSError) as error:
            stopped = f"stopped after {report.tiles} tiles"
            raise SceneError(f"{path}: damaged or truncated, {stopped} ({_gdal_says(error)})") from error


def _cut(
    src: Any, path: Path, zoom: int, min_valid: float, report: CutReport, max_tiles: int | None, coarseness: float
) -> Iterator[ImageTile]:
    from rasterio.enums import ColorInterp, Resampling
    from rasterio.transform import Affine
    from rasterio.vrt import WarpedVRT
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    if src.crs is None:
        raise SceneError(f"{path}: no coordinate reference system; georeference it first (gdal_edit.py -a_srs)")
    if src.count >= 3:
        interp = list(src.colorinterp)
        try:
            bands = [interp.index(c) + 1 for c in (ColorInterp.red, ColorInterp.green, ColorInterp.blue)]
        except ValueError:
            bands = [1, 2, 3]
    else:
        bands = [1, 1, 1]
        report.warnings.append(f"{path.name}: a single band, assessed as grey; the model was trained on colour")
    dtype = np.dtype(src.dtypes[bands[0] - 1])
    if dtype not in (np.uint8, np.uint16, np.int16):
        raise SceneError(f"{path}: {dtype} pixels; expected 8- or 16-bit imagery")
    captured = _captured_at(src.tags(), path)
    west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    latitude = (south + north) / 2
    report.metres_per_pixel = scenes.dataset_resolution(src, latitude)
    scenes.check_resolution(path.name, report.metres_per_pixel, zoom, latitude, coarseness)
    grid = list(mercantile.tiles(west, south, east, north, zooms=[zoom]))
    report.planned = len(grid)
    if max_tiles is not None:
        scenes.check_tile_count(path.name, len(grid), zoom, max_tiles)
    if not grid:
        return
    xs = [t.x for t in grid]
    ys = [t.y for t in grid]
    corner = mercantile.xy_bounds(mercantile.Tile(min(xs), min(ys), zoom))
    size = (corner.right - corner.left) / TILE_SIDE
    # A warped view aligned to the tile grid at exactly TILE_SIDE pixels per tile: each
    # tile is then one whole window of it, and GDAL warps only the blocks a window needs.
    with WarpedVRT(
        src,
        crs=WEB_MERCATOR,
        transform=Affine(size, 0.0, corner.left, 0.0, -size, corner.top),
        width=(max(xs) - min(xs) + 1) * TILE_SIDE,
        height=(max(ys) - min(ys) + 1) * TILE_SIDE,
        resampling=Resampling.bilinear,
        # Without no-data or alpha, GDAL would call the area outside the scene valid black.
        add_alpha=src.nodata is None and ColorInterp.alpha not in src.colorinterp,
    ) as vrt:
        stretch = None
        if dtype != np.uint8:
            scale = max(1, max(vrt.width, vrt.height) // 1024)
            shape = (max(1, vrt.height // scale), max(1, vrt.width // scale))
            sample = vrt.read(bands, out_shape=(3, *shape), resampling=Resampling.nearest)
            valid = vrt.dataset_mask(out_shape=shape) > 0
            stretch = _stretch(sample, valid)
        for tile in grid:
            window = Window((tile.x - min(xs)) * TILE_SIDE, (tile.y - min(ys)) * TILE_SIDE, TILE_SIDE, TILE_SIDE)
            mask = vrt.dataset_mask(window=window) > 0
            valid_fraction = float(mask.mean())
            if valid_fraction < min_valid:
                report.skipped_no_data += 1
                continue
            rgb = _to_rgb8(vrt.read(bands, window=window), mask, stretch)
            report.tiles += 1
            report.partial += valid_fraction < 1.0
            yield ImageTile(
                tile_id=f"{tile.z}/{tile.x}/{tile.y}",
                source=path.name,
                captured_at=captured,
                rgb=rgb,
                valid_fraction=round(valid_fraction, 4),
            )


def _to_rgb8(
    pixels: NDArray[np.generic],
    mask: NDArray[np.bool_],
    stretch: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
) -> RGB:
    x: NDArray[np.float32] = pixels.astype(np.float32)
    if stretch is not None:
        lo = stretch[0].astype(np.float32)[:, None, None]
        span = (stretch[1] - stretch[0]).astype(np.float32)[:, None, None]
        x = (x - lo) / span * np.float32(255.0)
    rgb: RGB = np.clip(x + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0).copy()
    if not mask.all():
        rgb[~mask] = rgb[mask].mean(axis=0).astype(np.uint8) if mask.any() else 0
    return rgb


_NAMED = re.compile(r"^(\d{1,2})[_\-.](\d+)[_\-.](\d+)$")


def folder_tiles(root: Path, zoom: int, *, report: CutReport | None = None) -> Iterator[ImageTile]:
    """Plain tiles named by id (`19_x_y.png`, `19-x-y.jpg` or `19/x/y.png`), or listed with
    bounds in a `tiles.csv` beside them (`file,west,south,east,north`, degrees): a tile
    given by bounds takes the id of the `zoom` tile under its centre."""
    report = report if report is not None else CutReport()
    if not root.is_dir():
        raise SceneError(f"{root}: neither a GeoTIFF scene nor a folder of tiles")
    bounds: dict[str, str] = {}
    listing = root / "tiles.csv"
    if listing.exists():
        with listing.open(newline="") as handle:
            for row in csv.DictReader(handle):
                try:
                    west, south, east, north = (float(row[k]) for k in ("west", "south", "east", "north"))
                    centre = mercantile.tile((west + east) / 2, (south + north) / 2, zoom)
                except (KeyError, ValueError) as error:
                    raise SceneError(f"{listing}: row {row} needs file,west,south,east,north in degrees") from error
                bounds[row["file"]] = f"{centre.z}/{centre.x}/{centre.y}"
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS):
        relative = path.relative_to(root)
        tile_id = bounds.get(relative.as_posix()) or _id_from_name(relative)
        if tile_id is None:
            report.skipped_unnamed.append(relative.as_posix())
            continue
        data = path.read_bytes()
        try:
            decode(data)  # the worker would refuse it to the dead letters; say so here instead
        except ImageError as error:
            report.skipped_unreadable.append(f"{relative.as_posix()}: {error}")
            continue
        report.tiles += 1
        captured = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
        yield ImageTile(tile_id=tile_id, source=relative.as_posix(), captured_at=captured, data=data)


def _id_from_name(relative: Path) -> str | None:
    stem = relative.with_suffix("").as_posix()
    match = _NAMED.match(stem.replace("/", "_"))
    if match is None:
        return None
    tile_id = "/".join(match.groups())
    try:
        parse_tile_id(tile_id)
    except ValueError:
        return None
    return tile_id
