"""What a tile image must be, for every service that takes one: decoded to 8-bit RGB, or refused with a reason.

The API checks an upload with `decode` before it queues it, and the inference worker
decodes every job with it, so both refuse the same images for the same reasons (empty,
corrupt, too large, wrong depth or channels). A PNG's or JPEG's declared size is checked
before decoding, so a small file that claims 100,000 x 100,000 pixels is refused without
allocating them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

# OpenCV's own warnings go straight to the process's stderr from C++, past the JSON log lines
# (vigia/logs.py); what it would warn of, a bad image, is refused below with a reason instead.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)

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


@dataclass(frozen=True)
class Header:
    """What a PNG's or JPEG's header declares, read without decoding."""

    width: int
    height: int
    plain_jpeg: bool = False  # baseline 8-bit, three components: decodes straight to RGB


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header, without decoding; None for other formats."""
    header = read_header(data)
    return None if header is None else (header.width, header.height)


def read_header(data: bytes) -> Header | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return Header(int(width), int(height))
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
                precision, height, width, components = struct.unpack(">BHHB", data[i + 4 : i + 10])
                return Header(int(width), int(height), plain_jpeg=precision == 8 and components == 3)
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
    header = read_header(data)
    if header is not None:
        check_size(header.width, header.height)
    # An 8-bit colour JPEG, the usual tile, is decoded into RGB order directly (a fifth faster
    # than decoding to BGR and reordering); anything else as it is stored, then checked.
    rgb_out = header is not None and header.plain_jpeg
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR_RGB if rgb_out else cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageError("corrupt", "not a readable PNG, JPEG or TIFF image")
    check_size(image.shape[1], image.shape[0])
    return to_rgb8(image, from_bgr=not rgb_out)
