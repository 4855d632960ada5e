from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from inference.preprocess import features, prepare
from vigia.images import ImageError, declared_size, decode
from vigia.settings import Settings

SHARED = Settings().imagery_dir / "ucmerced"


def encode(image: np.ndarray, ext: str = ".png") -> bytes:
    ok, buffer = cv2.imencode(ext, image)
    assert ok
    return buffer.tobytes()


def roofs(seed: int = 0) -> np.ndarray:
    """Grey and bright rectangles with dark gaps: a dense settlement from above, in BGR."""
    rng = np.random.default_rng(seed)
    image = np.full((256, 256, 3), 40, dtype=np.uint8)
    for y in range(0, 256, 20):
        for x in range(0, 256, 24):
            shade = int(rng.integers(110, 240))
            image[y + 2 : y + 17, x + 2 : x + 21] = shade
    return image


def field() -> np.ndarray:
    image = np.zeros((256, 256, 3), dtype=np.uint8)
    image[:, :] = (40, 150, 60)  # BGR: green
    return image


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return b"\x89PNG\r\n\x1a\n" + chunk


def test_png_and_jpeg_decode_to_rgb() -> None:
    bgr = roofs()
    rgb = decode(encode(bgr))
    assert rgb.shape == (256, 256, 3)
    assert rgb.dtype == np.uint8
    assert np.array_equal(rgb, bgr[:, :, ::-1])
    assert decode(encode(bgr, ".jpg")).shape == (256, 256, 3)


def test_colour_jpeg_keeps_its_channel_order_and_a_grey_one_is_refused() -> None:
    bgr = np.zeros((64, 64, 3), dtype=np.uint8)
    bgr[:, :32] = (0, 0, 220)  # red on the left, blue on the right
    bgr[:, 32:] = (220, 0, 0)
    rgb = decode(encode(bgr, ".jpg"))
    left, right = rgb[32, 8], rgb[32, 56]
    assert left[0] > 200
    assert left[2] < 40
    assert right[2] > 200
    assert right[0] < 40
    with pytest.raises(ImageError) as caught:
        decode(encode(np.full((64, 64), 128, dtype=np.uint8), ".jpg"))
    assert caught.value.reason == "bad_channels"
    data = encode(roofs(), ".jpg")
    with pytest.raises(ImageError) as caught:
        decode(data[:200])
    assert caught.value.reason == "corrupt"


def test_declared_size_is_read_from_headers() -> None:
    assert declared_size(encode(roofs())) == (256, 256)
    assert declared_size(encode(roofs(), ".jpg")) == (256, 256)
    assert declared_size(b"GIF89a") is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"this is not an image at all, just words", "corrupt"),
        (png_header(100_000, 100_000) + b"\x00" * 64, "too_large"),
        (png_header(8, 8), "too_small"),
    ],
)
def test_bad_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageError) as caught:
        decode(data)
    assert caught.value.reason == reason


def test_truncated_image_is_corrupt() -> None:
    data = encode(roofs())
    with pytest.raises(ImageError) as caught:
        decode(data[: len(data) // 3])
    assert caught.value.reason in {"corrupt"}


def test_single_band_is_refused_and_sixteen_bit_and_alpha_are_handled() -> None:
    with pytest.raises(ImageError) as caught:
        decode(encode(np.full((64, 64), 128, dtype=np.uint8)))
    assert caught.value.reason == "bad_channels"
    sixteen = roofs().astype(np.uint16) * 257
    assert np.abs(decode(encode(sixteen)).astype(int) - roofs()[:, :, ::-1]).max() <= 1
    rgba = np.dstack([roofs(), np.full((256, 256), 255, dtype=np.uint8)])
    assert decode(encode(rgba)).shape == (256, 256, 3)


def test_float_pixels_are_refused() -> None:
    from vigia.images import to_rgb8

    with pytest.raises(ImageError) as caught:
        to_rgb8(np.zeros((64, 64, 3), dtype=np.float32))
    assert caught.value.reason == "bad_depth"


def test_prepare_resizes_with_area_averaging() -> None:
    image = prepare(decode(encode(roofs())), 192)
    assert image.shape == (192, 192, 3)
    assert image.dtype == np.uint8
    checker = np.indices((64, 64)).sum(axis=0) % 2 * 255
    halved = prepare(np.repeat(checker[:, :, None], 3, axis=2).astype(np.uint8), 32)
    assert np.all(np.abs(halved.astype(int) - 128) <= 1)  # averaged, not sampled
    same = decode(encode(roofs()))
    assert prepare(same, 256) is same


def test_features_tell_roofs_from_fields() -> None:
    settlement = features(decode(encode(roofs())))
    green = features(decode(encode(field())))
    assert settlement.built_up_fraction > 0.45
    assert green.built_up_fraction == 0
    assert green.vegetation_fraction > 0.95
    assert settlement.vegetation_fraction < 0.05
    assert settlement.edge_density > green.edge_density
    assert 0 < settlement.roof_brightness <= 1
    assert set(settlement.as_dict()) == {
        "built_up_fraction", "vegetation_fraction", "roof_brightness", "roof_brightness_spread",
        "texture_contrast", "edge_density",
    }  # fmt: skip


@pytest.mark.skipif(not SHARED.exists(), reason="the shared imagery is not beside the project")
def test_on_real_tiles_housing_is_more_built_up_and_less_green_than_forest() -> None:
    def mean(kind: str, name: str) -> float:
        paths = sorted((SHARED / kind).glob("*.jpg"))[:10]
        return float(np.mean([features(decode(p.read_bytes())).as_dict()[name] for p in paths]))

    assert mean("denseresidential", "built_up_fraction") > mean("forest", "built_up_fraction") + 0.1
    assert mean("mobilehomepark", "built_up_fraction") > mean("golfcourse", "built_up_fraction") + 0.1
    assert mean("mobilehomepark", "vegetation_fraction") < mean("golfcourse", "vegetation_fraction")
