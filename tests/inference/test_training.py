"""A short training run on a small generated set: the loss falls and the model beats chance."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from inference import dataset, training


def generated(root: Path, per_class: int = 12) -> Path:
    """Three kinds of ground a CNN tells apart at a glance: roof grids, stripes of crops, water."""
    rng = np.random.default_rng(7)
    for name in ("roofs", "crops", "water"):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            image = np.zeros((64, 64, 3), dtype=np.uint8)
            if name == "roofs":
                image[:] = 60
                for y in range(0, 64, 12):
                    for x in range(0, 64, 12):
                        image[y + 2 : y + 10, x + 2 : x + 10] = int(rng.integers(150, 250))
            elif name == "crops":
                for x in range(0, 64, 8):
                    image[:, x : x + 4] = (40, int(rng.integers(120, 200)), 50)
            else:
                image[:] = (int(rng.integers(90, 130)), 60, 30)  # BGR blue
            noise = rng.integers(0, 20, image.shape, dtype=np.uint8)
            cv2.imwrite(str(root / name / f"{i:02d}.png"), cv2.add(image, noise))
    return root


def small(**settings: Any) -> training.TrainConfig:
    """Training sized for the generated set: 64 px tiles, a quarter held for validation."""
    return training.TrainConfig(input_size=64, validation_share=0.25, threads=2, **settings)


@pytest.mark.slow
def test_short_training_lowers_the_loss_and_beats_chance(tmp_path: Path) -> None:
    folder = dataset.scan(generated(tmp_path))
    result = training.train(folder, small(epochs=3, batch_size=8, patience=3, test_share=0.2), show_progress=False)
    assert result.test is not None
    assert result.test_degraded is not None
    assert result.test_tiles == sum(c.support for c in result.test.per_class) > 0
    losses = [h.train_loss for h in result.history]
    assert losses[-1] < losses[0]
    assert result.evaluation.accuracy > 1 / 3 + 0.2
    assert result.best_epoch >= 1


@pytest.mark.slow
def test_the_weights_moving_average_is_what_is_kept(tmp_path: Path) -> None:
    """Same seed, same batches: with the average on, the kept weights lie between the start and the raw run's."""
    folder = dataset.scan(generated(tmp_path))
    base = small(epochs=1, batch_size=4, patience=1, test_share=0.0)
    raw = training.train(folder, base, show_progress=False)
    averaged = training.train(folder, replace(base, ema=0.9), show_progress=False)
    start = training.build(len(folder.classes), pretrained=True).state_dict()
    name = "backbone._conv_head.weight"  # ImageNet's, so the same start in every run
    moved_raw = (raw.net.state_dict()[name] - start[name]).norm()
    moved_average = (averaged.net.state_dict()[name] - start[name]).norm()
    assert 0 < moved_average < moved_raw
    with pytest.raises(ValueError, match="below 1"):
        training.train(folder, replace(base, ema=1.0), show_progress=False)


def test_calibration_rescales_the_classes_only_and_needs_enough_tiles() -> None:
    rng = np.random.default_rng(5)
    net = training.build(3, pretrained=False)
    images = rng.integers(0, 255, size=(120, 64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 3, size=120).astype(np.int64)
    before_logits, before_embeddings = training.predict_logits(net, images)
    weight = net.classify.weight.detach().clone()
    assert training.calibrate(net, images[:50], labels[:50]) == 1.0  # too few tiles to fit
    assert np.array_equal(net.classify.weight.detach().numpy(), weight.numpy())
    temperature = training.calibrate(net, images, labels)
    assert temperature != 1.0
    after_logits, after_embeddings = training.predict_logits(net, images)
    assert np.allclose(after_logits, before_logits / temperature, atol=1e-4)
    assert np.array_equal(after_logits.argmax(axis=1), before_logits.argmax(axis=1))
    assert np.allclose(after_embeddings, before_embeddings)
