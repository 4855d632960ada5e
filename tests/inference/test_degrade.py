"""Another sensor's view of a tile: coarser, softer, recoloured, re-compressed, and reproducible."""

from __future__ import annotations

import numpy as np

from inference.degrade import Degrade, as_other_sensors, resample
from vigia.images import decode
from vigia.settings import Settings

TILE = decode((Settings().imagery_dir / "ucmerced" / "denseresidential" / "denseresidential00.jpg").read_bytes())


def sharpness(image: np.ndarray) -> float:
    grey = image.astype(np.float32).mean(axis=2)
    return float(np.abs(np.diff(grey, axis=1)).mean())


def test_a_coarser_sensor_loses_detail_and_keeps_the_size() -> None:
    two_metres = resample(TILE, 2.0)
    assert two_metres.shape == TILE.shape
    assert sharpness(two_metres) < 0.6 * sharpness(TILE)
    assert resample(TILE, 0.3) is TILE  # the same resolution is left alone


def test_degrading_is_reproducible_and_varies_between_tiles() -> None:
    batch = np.stack([TILE, TILE])
    once, again = as_other_sensors(batch, seed=3), as_other_sensors(batch, seed=3)
    assert np.array_equal(once, again)
    assert not np.array_equal(once[0], once[1])  # each tile its own sensor
    assert once.dtype == np.uint8


def test_with_no_probability_the_tile_is_untouched() -> None:
    assert np.array_equal(Degrade(probability=0.0)(TILE, np.random.default_rng(0)), TILE)
