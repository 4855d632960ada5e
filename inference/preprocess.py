"""Imagery for the model: prepare a decoded image for the network, and describe it for people.

Every image that reaches the model has passed `vigia.images.decode` (the same check the
API makes on an upload before queueing it).

`features` gives interpretable numbers stored beside each embedding, so a report can say
why a tile was judged the way it was: how much is built up, how much is green, how bright
and how varied the roofs are, how dense the edges.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from vigia.images import RGB


def prepare(rgb: RGB, size: int) -> RGB:
    """The model's input: `size` x `size` RGB, area-averaged. Normalisation is the model's own job."""
    if rgb.shape[0] == size and rgb.shape[1] == size:
        return rgb
    return np.asarray(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA), dtype=np.uint8)


@dataclass(frozen=True)
class TileFeatures:
    """Numbers a person can read beside an assessment. Fractions are of the tile's area."""

    built_up_fraction: float  # cells crossed by straight edges, not green, not in deep shadow: built forms
    vegetation_fraction: float  # excess-green index (2g - r - b on chromaticity) above VEGETATION_EXG
    roof_brightness: float  # mean brightness [0, 1] of built-up cells; light sheet metal is bright
    roof_brightness_spread: float  # its standard deviation: mixed materials spread wide
    texture_contrast: float  # standard deviation of the Laplacian of grey, /255
    edge_density: float  # share of pixels on Canny edges

    def as_dict(self) -> dict[str, float]:
        return {key: round(value, 4) for key, value in asdict(self).items()}


ANALYSIS_SIDE = 128  # features are read at 0.6 m per pixel: enough for roofs, a quarter of the work
CELL = 8  # pixels a side of the cells built-up area is judged on (about 5 m)
VEGETATION_EXG = 0.10  # asphalt and roofs in these tiles sit near 0.05; foliage well above
# 2g - r - b > t on chromaticity, times 100 (r + g + b): integer weights on raw R, G, B.
_EXG_WEIGHTS = np.array([[-(100 + 100 * VEGETATION_EXG), 200 - 100 * VEGETATION_EXG, -(100 + 100 * VEGETATION_EXG)]])


def _per_cell(mask: NDArray[np.bool_]) -> NDArray[np.float32]:
    """The share of each CELL x CELL cell that is set: area resampling averages whole cells exactly."""
    side = ANALYSIS_SIDE // CELL
    return np.asarray(cv2.resize(mask.astype(np.float32), (side, side), interpolation=cv2.INTER_AREA), np.float32)


def features(rgb: RGB) -> TileFeatures:
    if rgb.shape[0] != ANALYSIS_SIDE or rgb.shape[1] != ANALYSIS_SIDE:
        rgb = np.asarray(cv2.resize(rgb, (ANALYSIS_SIDE, ANALYSIS_SIDE), interpolation=cv2.INTER_AREA), dtype=np.uint8)
    vegetation = cv2.transform(rgb.astype(np.float32), _EXG_WEIGHTS.astype(np.float32)) > 0
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(grey, 80, 160)
    brightness = grey.astype(np.float32) / 255.0
    shadow = brightness < 0.12

    # Built forms have straight edges; foliage and rock do not. Fields ploughed in rows do, so
    # this is a proxy a person should read beside the model's class, not instead of it.
    straight = np.zeros_like(grey)
    segments = cv2.HoughLinesP(edges, 1, np.pi / 90, threshold=10, minLineLength=7, maxLineGap=1)
    if segments is not None:  # one call for all segments: the same pixels as a cv2.line each, a quarter of the time
        cv2.polylines(straight, list(np.asarray(segments).reshape(-1, 2, 2)), False, 255, 2)

    built = (_per_cell(straight > 0) > 0.04) & (_per_cell(vegetation) < 0.3) & (_per_cell(shadow) < 0.5)
    built_pixels = built.repeat(CELL, axis=0).repeat(CELL, axis=1)
    roof = brightness[built_pixels]
    laplacian = cv2.Laplacian(grey, cv2.CV_32F)
    return TileFeatures(
        built_up_fraction=float(built.mean()),
        vegetation_fraction=float(vegetation.mean()),
        roof_brightness=float(roof.mean()) if roof.size else 0.0,
        roof_brightness_spread=float(roof.std()) if roof.size else 0.0,
        texture_contrast=float(laplacian.std() / 255.0),
        edge_density=float((edges > 0).mean()),
    )
