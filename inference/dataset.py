"""Labelled tiles on disk, their deterministic split, and the augmentations training sees.

A labelled folder is `<class>/<tile>.png|jpg`; the class is the folder's name, so a team
in Lima can retrain on their own tiles by sorting them into folders. The split hashes each
file's name within its class, so it does not depend on listing order, on the machine, or
on tiles added to other classes, and adding tiles moves few existing ones across.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from inference.degrade import Degrade
from vigia.images import RGB, ImageError, decode

EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
LOAD_SIDE = 256  # tiles are kept at this size in memory; crops and the model's input come from it


@dataclass(frozen=True)
class LabelledTile:
    path: Path
    label: int


@dataclass(frozen=True)
class LabelledFolder:
    root: Path
    classes: tuple[str, ...]
    tiles: tuple[LabelledTile, ...]


class DatasetError(ValueError):
    """A labelled folder that cannot be trained or evaluated on, with what to fix."""


def scan(root: Path, classes: Sequence[str] | None = None) -> LabelledFolder:
    """Find `<class>/<tile>` images. With `classes` (a model's), folders must be among them."""
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder of class folders")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not found:
        raise DatasetError(f"{root} has no class folders (expected {root}/<class>/<tile>.png)")
    if classes is None:
        classes = found
    else:
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise DatasetError(f"classes the model does not know: {', '.join(unknown)}")
    index = {name: i for i, name in enumerate(classes)}
    tiles = [
        LabelledTile(path, index[name])
        for name in found
        for path in sorted((root / name).iterdir())
        if path.suffix.lower() in EXTENSIONS
    ]
    empty = [name for name in found if not any(t.label == index[name] for t in tiles)]
    if empty:
        raise DatasetError(f"class folders with no images: {', '.join(empty)}")
    return LabelledFolder(root, tuple(classes), tuple(tiles))


def split(
    folder: LabelledFolder, validation_share: float = 0.2, test_share: float = 0.0
) -> tuple[list[LabelledTile], list[LabelledTile], list[LabelledTile]]:
    """(train, validation, test): per class, the `test_share` of tiles whose name hashes lowest are held out
    for one final test, the next `validation_share` choose the epoch, the rest train. By name, so adding tiles
    never moves one already placed from test into training."""
    if not 0.0 < validation_share < 1.0 or not 0.0 <= test_share < 1.0 or validation_share + test_share >= 1.0:
        raise DatasetError(
            f"validation ({validation_share}) and test ({test_share}) shares must be fractions leaving tiles to train"
        )
    train: list[LabelledTile] = []
    validation: list[LabelledTile] = []
    test: list[LabelledTile] = []
    for label in range(len(folder.classes)):
        members = sorted(
            (t for t in folder.tiles if t.label == label),
            key=lambda t: hashlib.blake2b(t.path.name.encode(), digest_size=8).digest(),
        )
        if not members:
            continue
        tested = round(len(members) * test_share) if len(members) > 2 else 0
        held = max(1, round(len(members) * validation_share)) if len(members) - tested > 1 else 0
        test.extend(members[:tested])
        validation.extend(members[tested : tested + held])
        train.extend(members[tested + held :])
    return train, validation, test


def load(tiles: Sequence[LabelledTile], side: int = LOAD_SIDE) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """All tiles as one (N, side, side, 3) uint8 array; unreadable files stop with their path."""
    images = np.empty((len(tiles), side, side, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        try:
            rgb = decode(tile.path.read_bytes())
        except ImageError as error:
            raise DatasetError(f"{tile.path}: {error}") from error
        images[i] = (
            cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA) if rgb.shape[:2] != (side, side) else rgb
        )
    return images, np.array([t.label for t in tiles], dtype=np.int64)


@dataclass(frozen=True)
class Augment:
    """What training varies. Overhead imagery has no up: every flip and quarter turn is a real view."""

    size: int
    # Smallest crop, as a share of the tile's area. Density classes differ in how many roofs a
    # tile holds: a crop of 60 % enlarges each roof 1.29 times a side and made dense tiles look
    # medium (0.85 took validation housing macro-F1 from 0.912 to 0.951).
    min_crop: float = 0.85
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    other_sensors: float = 0.0  # share of tiles first degraded as another sensor would see them
    degrade: Degrade = field(default_factory=Degrade)

    def __call__(self, image: RGB, rng: np.random.Generator) -> RGB:
        if rng.random() < self.other_sensors:
            image = self.degrade(image, rng)
        h, w = image.shape[:2]
        area = rng.uniform(self.min_crop, 1.0) * h * w
        aspect = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3)))
        ch = min(h, round(np.sqrt(area / aspect)))
        cw = min(w, round(np.sqrt(area * aspect)))
        top = int(rng.integers(0, h - ch + 1))
        left = int(rng.integers(0, w - cw + 1))
        crop = cv2.resize(image[top : top + ch, left : left + cw], (self.size, self.size), interpolation=cv2.INTER_AREA)
        crop = np.rot90(crop, int(rng.integers(0, 4)))
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        return jitter(
            np.ascontiguousarray(crop),
            brightness=rng.uniform(1 - self.brightness, 1 + self.brightness),
            contrast=rng.uniform(1 - self.contrast, 1 + self.contrast),
            saturation=rng.uniform(1 - self.saturation, 1 + self.saturation),
        )


def jitter(image: RGB, *, brightness: float, contrast: float, saturation: float) -> RGB:
    """Colour jitter as factors around 1: how sensors, seasons and haze vary the same ground."""
    x = image.astype(np.float32) * brightness
    grey = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    x = (x - grey.mean()) * contrast + grey.mean()
    grey = x @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    x = grey[:, :, None] + (x - grey[:, :, None]) * saturation
    out: RGB = np.clip(x + 0.5, 0, 255).astype(np.uint8)
    return out


def fit(images: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """Whole tiles at the model's input size: what validation and serving see."""
    if images.shape[1] == size:
        return images
    return np.stack([cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA) for image in images])
