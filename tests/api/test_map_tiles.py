"""Map tiles from archived imagery: which archive tiles a map tile holds, and how they are drawn."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from api.map_tiles import MAX_DEPTH, SIZE, OutOfRange, compose, etag, span


def jpeg(colour: tuple[int, int, int], size: int = 256) -> bytes:
    image = np.zeros((size, size, 3), dtype=np.uint8)
    image[:] = colour[::-1]  # OpenCV writes BGR
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return data.tobytes()


def rgba(png: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)


def test_a_map_tile_covers_the_imagery_tiles_inside_it() -> None:
    assert span(19, 150041, 279759, imagery_zoom=19).__dict__ == {"depth": 0, "x0": 150041, "y0": 279759}
    area = span(17, 37510, 69939, imagery_zoom=19)
    assert (area.depth, area.x0, area.x1, area.y0, area.y1, area.cell) == (2, 150040, 150043, 279756, 279759, 64)


@pytest.mark.parametrize(("z", "x", "y"), [(20, 0, 0), (19 - MAX_DEPTH - 1, 0, 0), (3, 8, 0), (3, 0, -1)])
def test_tiles_the_layer_does_not_draw_are_refused(z: int, x: int, y: int) -> None:
    with pytest.raises(OutOfRange):
        span(z, x, y, imagery_zoom=19)


def test_each_image_lands_in_its_quarter_and_the_rest_stays_transparent() -> None:
    area = span(18, 10, 20, imagery_zoom=19)  # children 20..21 x 40..41
    store = {"red": jpeg((220, 30, 30)), "blue": jpeg((30, 30, 220))}
    drawn = rgba(compose(area, [(20, 40, "red"), (21, 41, "blue")], store.__getitem__))
    assert drawn.shape == (SIZE, SIZE, 4)
    half = SIZE // 2
    top_left, bottom_right = drawn[:half, :half], drawn[half:, half:]
    assert top_left[..., 3].min() == 255
    assert abs(int(top_left[..., 0].mean()) - 220) < 6
    assert bottom_right[..., 3].min() == 255
    assert abs(int(bottom_right[..., 2].mean()) - 220) < 6
    assert drawn[:half, half:, 3].max() == 0  # no image taken there: transparent
    assert drawn[half:, :half, 3].max() == 0


def test_an_unreadable_or_missing_image_leaves_its_place_empty_and_the_others_drawn() -> None:
    area = span(18, 10, 20, imagery_zoom=19)

    def read(digest: str) -> bytes:
        if digest == "gone":
            raise LookupError("not in the archive")
        return {"bad": b"not an image", "ok": jpeg((0, 200, 0))}[digest]

    drawn = rgba(compose(area, [(20, 40, "gone"), (21, 40, "bad"), (20, 41, "ok")], read))
    assert drawn[:128, :, 3].max() == 0
    assert drawn[128:, :128, 3].min() == 255


def test_far_out_tiles_draw_every_image_small_and_the_etag_follows_the_images() -> None:
    area = span(14, 0, 0, imagery_zoom=19)
    images = [(x, y, "img") for x in range(32) for y in range(0, 32, 2)]
    drawn = rgba(compose(area, images, lambda _: jpeg((250, 250, 0), size=256)))
    assert area.cell == 8
    assert (drawn[..., 3] == 255).mean() == pytest.approx(0.5)
    assert etag(images) == etag(list(reversed(images)))
    assert etag(images) != etag([*images[:-1], (images[-1][0], images[-1][1], "other")])
