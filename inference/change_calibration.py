"""Where the change threshold comes from: distances between the same tile seen twice and between different ones.

"The same tile seen twice" is a shared tile against itself degraded as a second flight or
another camera would see it: re-lit (gain and offset), sometimes blurred, shifted by up to
12 px, and re-encoded as JPEG at quality 45 to 90. "Different" is a tile against one of
another class. `make bench-change` prints both distributions; the unit tests hold the
threshold between them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from inference.assessor import Assessment, Assessor
from inference.change import Seen, compare


def degrade(data: bytes, seed: int) -> bytes:
    """The image as another acquisition of the same ground might give it."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("the tile is not an image OpenCV reads")
    rng = np.random.default_rng(seed)
    image = np.clip(image.astype(np.float32) * rng.uniform(0.85, 1.15) + rng.uniform(-12, 12), 0, 255)
    image = image.astype(np.uint8)
    if rng.random() < 0.5:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    dx, dy = (int(v) for v in rng.integers(-12, 13, size=2))
    shift = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    image = cv2.warpAffine(image, shift, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REFLECT)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(45, 91))])
    if not ok:
        raise ValueError("the degraded tile could not be encoded")
    return bytes(encoded.tobytes())


@dataclass(frozen=True)
class Pairs:
    same: list[float]  # distances, a tile against itself degraded
    different: list[float]  # a tile against one of another class
    same_fired: int  # significant changes found where there was none
    different_fired: int  # significant changes found between different classes


def _seen(a: Assessment) -> Seen:
    from datetime import UTC, datetime

    return Seen(datetime.now(UTC), a.land_use_class, a.housing_score, a.embedding, a.features.as_dict())


def measure(assessor: Assessor, by_class: Mapping[str, Sequence[Path]], seed: int = 0) -> Pairs:
    """Every tile of every class against itself degraded and against a tile of the next class."""
    rng = np.random.default_rng(seed)
    classes = sorted(by_class)
    same, different, same_fired, different_fired = [], [], 0, 0
    for c in classes:
        for i, path in enumerate(by_class[c]):
            other = str(rng.choice([k for k in classes if k != c]))
            stranger = by_class[other][i % len(by_class[other])]
            data = path.read_bytes()
            results = assessor.assess([data, degrade(data, seed + i), stranger.read_bytes()])
            original, again, elsewhere = (r for r in results if isinstance(r, Assessment))
            kept, moved = compare(_seen(original), _seen(again)), compare(_seen(original), _seen(elsewhere))
            same.append(kept.distance)
            different.append(moved.distance)
            same_fired += kept.significant
            different_fired += moved.significant
    return Pairs(same, different, same_fired, different_fired)
