"""A tile as another sensor would see the same ground: coarser, softer, re-compressed and differently coloured.

Lima's imagery will not come from the archive the model learned on. What differs between
sources, roughly in order of harm: ground resolution (a 1 m satellite pixel against a 0.3 m
aerial one), the optics' blur, JPEG compression, and colour (sensor response, haze, sun,
the archive's own histogram stretch). `Degrade` draws each from a range and applies it to
a tile of about 0.3 m a pixel; training uses it so the model learns housing rather than one
archive's look, and `vigia model evaluate --degraded` uses it to say what the model is worth
on imagery from elsewhere, beside its clean figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vigia.images import RGB

SOURCE_METRES = 0.3  # the ground resolution of the shared tiles, and of zoom 19 at Lima


@dataclass(frozen=True)
class Degrade:
    """Ranges to draw from; `probability` of applying each step, so some tiles stay clean."""

    metres: tuple[float, float] = (0.3, 2.0)  # ground resolution to resample to
    blur_sigma: tuple[float, float] = (0.0, 1.2)  # px, after resampling back
    jpeg_quality: tuple[int, int] = (35, 95)
    gamma: tuple[float, float] = (0.75, 1.35)
    channel_gain: float = 0.12  # each of R, G, B scaled by up to this much either way
    haze: tuple[float, float] = (0.0, 0.25)  # share of a flat grey veil
    probability: float = 0.8

    def __call__(self, image: RGB, rng: np.random.Generator) -> RGB:
        out = image
        if rng.random() < self.probability:
            out = resample(out, float(rng.uniform(*self.metres)))
        if rng.random() < self.probability:
            out = blur(out, float(rng.uniform(*self.blur_sigma)))
        if rng.random() < self.probability:
            gains = 1 + rng.uniform(-self.channel_gain, self.channel_gain, size=3)
            out = recolour(out, float(rng.uniform(*self.gamma)), gains, float(rng.uniform(*self.haze)))
        if rng.random() < self.probability:
            out = recompress(out, int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1)))
        return out


def resample(image: RGB, metres: float) -> RGB:
    """The tile as a sensor of `metres` a pixel would give it, brought back to the tile's size."""
    h, w = image.shape[:2]
    factor = SOURCE_METRES / max(metres, SOURCE_METRES)
    if factor >= 0.999:
        return image
    small = cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def blur(image: RGB, sigma: float) -> RGB:
    if sigma < 0.05:
        return image
    return np.asarray(cv2.GaussianBlur(image, (0, 0), sigma), dtype=np.uint8)


def recolour(image: RGB, gamma: float, gains: np.ndarray, haze: float) -> RGB:
    x = (image.astype(np.float32) / 255.0) ** gamma * gains.astype(np.float32)
    x = x * (1 - haze) + haze * 0.75
    out: RGB = np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def recompress(image: RGB, quality: int) -> RGB:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return image
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    return image if decoded is None else np.asarray(decoded, dtype=np.uint8)


def as_other_sensors(images: np.ndarray, seed: int = 0) -> np.ndarray:
    """Every image degraded once, reproducibly: the test set another source would make of the same ground."""
    rng = np.random.default_rng(seed)
    every = Degrade(probability=1.0, metres=(0.6, 2.0))  # always another sensor, and a coarser one
    return np.stack([every(image, rng) for image in images])
