"""Whether a scene's ground resolution suits a tile zoom: the rule the imagery command and the upload share.

A web-mercator tile of 256 px at zoom z spans 2πR·cos(lat) / 2^z metres, so a pixel of it
is about 0.30 m at zoom 19 in Lima. A scene much coarser than that (a 10 m Sentinel-2 or a
30 m Landsat scene) cut at zoom 19 becomes millions of tiles of upsampled blur that no
model can read, and floods the queue. The rule: a scene may be at most `MAX_COARSENESS`
times coarser than the zoom's pixel; past it, the refusal names the finest zoom that fits.
"""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6_378_137.0  # web mercator's sphere
TILE_SIDE = 256
MAX_COARSENESS = 4.0  # a scene up to 4x coarser than the zoom's pixel is upsampled, past that refused
MAX_TILES = 20_000  # above this many tiles a scene is refused unless asked for, with the count


class SceneRefused(ValueError):
    """A scene that must not be cut at the zoom asked for; the message says why and what to do instead."""


def zoom_resolution(zoom: int, latitude: float) -> float:
    """Metres on the ground per pixel of a 256 px tile at `zoom` and `latitude`."""
    return float(2 * math.pi * EARTH_RADIUS_M * math.cos(math.radians(latitude)) / (TILE_SIDE * 2**zoom))


def finest_fitting_zoom(resolution_m: float, latitude: float, coarseness: float = MAX_COARSENESS) -> int:
    """The deepest zoom whose pixel the scene's `resolution_m` is at most `coarseness` times coarser than."""
    zoom = 0
    while zoom < 24 and resolution_m <= coarseness * zoom_resolution(zoom + 1, latitude):
        zoom += 1
    return zoom


def check_resolution(
    name: str, resolution_m: float, zoom: int, latitude: float, coarseness: float = MAX_COARSENESS
) -> None:
    """Refuse a scene too coarse for `zoom`, naming the zoom that would fit."""
    pixel = zoom_resolution(zoom, latitude)
    if resolution_m > coarseness * pixel:
        fits = finest_fitting_zoom(resolution_m, latitude, coarseness)
        raise SceneRefused(
            f"{name}: {resolution_m:.3g} m a pixel is {resolution_m / pixel:.0f}x coarser than zoom {zoom}'s"
            f" {pixel:.2f} m (at most {coarseness:g}x); cut it with --zoom {fits} or coarser, knowing the model"
            " was trained on about 0.3 m a pixel"
        )


def check_tile_count(name: str, tiles: int, zoom: int, limit: int) -> None:
    if tiles > limit:
        raise SceneRefused(
            f"{name}: {tiles:,} tiles at zoom {zoom} is more than the limit of {limit:,}; nothing was queued."
            " Cut a smaller area, or pass --max-tiles to queue them all"
        )


def ground_resolution(
    pixel_x: float, pixel_y: float, *, geographic: bool, web_mercator: bool, latitude: float, unit_m: float = 1.0
) -> float:
    """Metres on the ground per pixel (the coarser axis) from a raster's pixel size in its CRS's units."""
    if geographic:  # degrees: a degree of latitude is ~110.6 km, of longitude that times cos(lat)
        across = abs(pixel_x) * 111_320.0 * math.cos(math.radians(latitude))
        return max(across, abs(pixel_y) * 110_574.0)
    size = max(abs(pixel_x), abs(pixel_y)) * unit_m
    return size * math.cos(math.radians(latitude)) if web_mercator else size  # mercator stretches by 1/cos(lat)


def geotiff_resolution(data: bytes) -> tuple[float, float] | None:
    """(metres a pixel, latitude) of a georeferenced TIFF's bytes; None for an image without a CRS."""
    from rasterio.errors import RasterioError
    from rasterio.io import MemoryFile
    from rasterio.warp import transform_bounds

    try:
        with MemoryFile(data) as memory, memory.open() as src:
            if src.crs is None:
                return None
            south, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)[1::2]
            latitude = (south + north) / 2
            return dataset_resolution(src, latitude), latitude
    except RasterioError:
        return None  # not a GeoTIFF GDAL reads: the image check says what is wrong with it


def dataset_resolution(src: Any, latitude: float) -> float:
    """Metres a pixel of an open rasterio dataset, whatever its CRS."""
    crs = src.crs
    unit = 1.0 if crs.is_geographic else float(crs.linear_units_factor[1])
    return ground_resolution(
        *src.res, geographic=crs.is_geographic, web_mercator=crs.to_epsg() in (3857, 900913), latitude=latitude,
        unit_m=unit,
    )  # fmt: skip
