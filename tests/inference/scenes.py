"""Small georeferenced scenes made from the shared tiles, for tests and the demo's imagery."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from vigia.images import decode

# A corner of San Juan de Lurigancho, Lima, in UTM zone 18 south (EPSG:32718).
LIMA_EAST = 285_000.0
LIMA_NORTH = 8_672_000.0


def mosaic(paths: list[Path], columns: int) -> NDArray[np.uint8]:
    images = [decode(p.read_bytes())[:256, :256] for p in paths]
    rows = [np.concatenate(images[i : i + columns], axis=1) for i in range(0, len(images), columns)]
    return np.concatenate(rows, axis=0)


def write_scene(
    path: Path,
    rgb: NDArray[np.generic],
    *,
    metres_per_pixel: float = 0.3,
    crs: str = "EPSG:32718",
    nodata: float | None = None,
) -> Path:
    """A GeoTIFF of `rgb` (H, W, bands) north-up from the Lima corner."""
    import rasterio
    from rasterio.transform import from_origin

    bands = rgb.shape[2] if rgb.ndim == 3 else 1
    data = rgb.transpose(2, 0, 1) if rgb.ndim == 3 else rgb[None]
    profile = {
        "driver": "GTiff",
        "width": rgb.shape[1],
        "height": rgb.shape[0],
        "count": bands,
        "dtype": str(rgb.dtype),
        "crs": crs,
        "transform": from_origin(LIMA_EAST, LIMA_NORTH, metres_per_pixel, metres_per_pixel),
        "nodata": nodata,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path
