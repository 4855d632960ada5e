"""Imagery in: decode and check an image, prepare it for the model, and describe it for people.

Every image that reaches the model passes `decode`, which refuses what it cannot use with
a reason code and a sentence (empty, corrupt, too large, wrong depth or channels), and
checks a PNG's or JPEG's declared size before decoding, so a small file that claims
100,000 x 100,000 pixels is refused without allocating them.

`features` gives interpretable numbers stored beside each embedding, so a report can say
why a tile was judged the way it was: how much is built up, how much is green, how bright
and how varied the roofs are, how dense the edges.
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

MAX_BYTES = 20 * 1024 * 1024
MIN_SIDE = 32
MAX_SIDE = 10_000
MAX_PIXELS = 40_000_000

RGB = NDArray[np.uint8]


class ImageError(ValueError):
    """An image the system cannot use. `reason` is a stable code; the message says what to do."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding; None for other formats."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return None


def check_size(width: int, height: int) -> None:
    if min(width, height) < MIN_SIDE:
        raise ImageError("too_small", f"{width}x{height} px; a tile needs at least {MIN_SIDE} px a side")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError("too_large", f"{width}x{height} px exceeds {MAX_SIDE} px a side or {MAX_PIXELS:,} px")


def to_rgb8(image: NDArray[np.generic], *, from_bgr: bool = True) -> RGB:
    """8-bit RGB from 8- or 16-bit, 3- or 4-channel pixels; anything else is refused."""
    if image.dtype == np.uint16:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ImageError("bad_depth", f"{image.dtype} pixels; expected 8- or 16-bit integers")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        raise ImageError("bad_channels", "a single band; the model needs colour (RGB) imagery")
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ImageError("bad_channels", f"{image.shape[2] if image.ndim == 3 else '?'} bands; expected RGB or RGBA")
    rgb = image[:, :, :3]
    rgb = rgb[:, :, ::-1] if from_bgr else rgb
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def decode(data: bytes) -> RGB:
    """Decode an uploaded or stored image into 8-bit RGB, or say why not."""
    if not data:
        raise ImageError("empty", "the file is empty")
    if len(data) > MAX_BYTES:
        raise ImageError("too_large", f"{len(data):,} bytes exceeds {MAX_BYTES:,}")
    size = declared_size(data)
    if size is not None:
        check_size(*size)
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError("corrupt", "not a readable PNG, JPEG or TIFF image")
    check_size(image.shape[1], image.shape[0])
    return to_rgb8(image)


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
    if segments is not None:
        for x1, y1, x2, y2 in np.asarray(segments).reshape(-1, 4):
            cv2.line(straight, (int(x1), int(y1)), (int(x2), int(y2)), 255, 2)

    rows = cols = ANALYSIS_SIDE // CELL

    def per_cell(mask: NDArray[np.generic]) -> NDArray[np.float64]:
        means: NDArray[np.float64] = mask.astype(np.float64).reshape(rows, CELL, cols, CELL).mean(axis=(1, 3))
        return means

    built = (per_cell(straight > 0) > 0.04) & (per_cell(vegetation) < 0.3) & (per_cell(shadow) < 0.5)
    built_pixels = np.kron(built, np.ones((CELL, CELL), dtype=bool))
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
