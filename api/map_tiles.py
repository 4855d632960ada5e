"""The district's own imagery as XYZ map tiles, composed from the archive.

At the imagery zoom a map tile is the archived image itself, scaled to 256 pixels. Below
it, a map tile shows the 4^d archive tiles inside it, each shrunk to 256/2^d pixels: JPEGs
are decoded already shrunk (libjpeg's DCT scaling), so a tile five zooms out (1,024 images of
8 pixels) stays cheap. Where no image was taken the tile is transparent, so a base layer
or the grey of the page shows through. The same set of images always gives the same bytes,
which the route turns into an ETag.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

SIZE = 256
MAX_DEPTH = 5  # zooms below the imagery zoom that are still drawn: 1,024 images of 8 px


class OutOfRange(ValueError):
    """A map tile this layer does not draw (too far out, or deeper than the imagery)."""


@dataclass(frozen=True)
class Span:
    """The archive tiles (at the imagery zoom) inside one map tile."""

    depth: int
    x0: int
    y0: int

    @property
    def x1(self) -> int:
        return self.x0 + (1 << self.depth) - 1

    @property
    def y1(self) -> int:
        return self.y0 + (1 << self.depth) - 1

    @property
    def cell(self) -> int:
        return SIZE >> self.depth


def span(z: int, x: int, y: int, *, imagery_zoom: int) -> Span:
    if not 0 <= x < (1 << z) or not 0 <= y < (1 << z):
        raise OutOfRange(f"no tile {z}/{x}/{y}")
    depth = imagery_zoom - z
    if depth < 0:
        raise OutOfRange(f"the imagery is kept at zoom {imagery_zoom}; deeper zooms are drawn by the map")
    if depth > MAX_DEPTH:
        raise OutOfRange(f"imagery is drawn from zoom {imagery_zoom - MAX_DEPTH}; zoom in")
    return Span(depth, x << depth, y << depth)


def etag(digests: Sequence[tuple[int, int, str]]) -> str:
    """The same images at the same places: the same tile."""
    h = hashlib.sha256()
    for x, y, digest in sorted(digests):
        h.update(f"{x},{y},{digest};".encode())
    return h.hexdigest()[:32]


def _reduced(cell: int) -> int:
    """The OpenCV flag that decodes at most 8x smaller than the stored 256 px, never below the cell."""
    for factor, flag in ((8, cv2.IMREAD_REDUCED_COLOR_8), (4, cv2.IMREAD_REDUCED_COLOR_4),
                         (2, cv2.IMREAD_REDUCED_COLOR_2)):  # fmt: skip
        if cell * factor <= SIZE:
            return flag
    return cv2.IMREAD_COLOR


def compose(area: Span, images: Sequence[tuple[int, int, str]], read: Callable[[str], bytes]) -> bytes:
    """A 256 px RGBA PNG of the images (x, y, digest) inside `area`; what cannot be read stays transparent."""
    canvas = np.zeros((SIZE, SIZE, 4), dtype=np.uint8)  # BGRA, as OpenCV writes PNGs
    cell = area.cell
    flag = _reduced(cell)  # always 8-bit, 3-channel BGR, whatever was stored
    for x, y, digest in images:
        try:
            decoded = cv2.imdecode(np.frombuffer(read(digest), dtype=np.uint8), flag)
        except (LookupError, OSError):
            continue
        if decoded is None:
            continue
        left, top = (x - area.x0) * cell, (y - area.y0) * cell
        canvas[top : top + cell, left : left + cell, :3] = cv2.resize(
            decoded, (cell, cell), interpolation=cv2.INTER_AREA
        )
        canvas[top : top + cell, left : left + cell, 3] = 255
    ok, png = cv2.imencode(".png", canvas)
    if not ok:
        raise RuntimeError("OpenCV could not encode a PNG")
    return png.tobytes()
