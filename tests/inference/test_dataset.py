from pathlib import Path

import cv2
import numpy as np
import pytest

from inference import dataset


def make_folder(root: Path, classes: dict[str, int], ext: str = ".png") -> Path:
    rng = np.random.default_rng(1)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            cv2.imwrite(str(root / name / f"{name}{i:02d}{ext}"), rng.integers(0, 255, (40, 40, 3), dtype=np.uint8))
    return root


def test_scan_finds_classes_in_name_order(tmp_path: Path) -> None:
    folder = dataset.scan(make_folder(tmp_path, {"roofs": 3, "fields": 2}))
    assert folder.classes == ("fields", "roofs")
    assert sum(t.label == 1 for t in folder.tiles) == 3


def test_scan_refuses_unknown_and_empty_classes(tmp_path: Path) -> None:
    make_folder(tmp_path, {"roofs": 2})
    with pytest.raises(dataset.DatasetError, match="does not know: roofs"):
        dataset.scan(tmp_path, classes=("forest",))
    (tmp_path / "empty").mkdir()
    with pytest.raises(dataset.DatasetError, match="no images: empty"):
        dataset.scan(tmp_path)
    with pytest.raises(dataset.DatasetError, match="not a folder"):
        dataset.scan(tmp_path / "missing")


def test_split_is_deterministic_stratified_and_stable_when_other_classes_grow(tmp_path: Path) -> None:
    a = dataset.split(dataset.scan(make_folder(tmp_path / "a", {"roofs": 10, "fields": 5})))
    b = dataset.split(dataset.scan(make_folder(tmp_path / "b", {"roofs": 10, "fields": 50})))
    names = lambda tiles, label: sorted(t.path.name for t in tiles if t.label == label)  # noqa: E731
    assert len(names(a[1], 1)) == 2
    assert len(names(a[1], 0)) == 1
    assert names(a[1], 1) == names(b[1], 1)  # roofs' validation tiles do not move when fields grow
    assert not {t.path for t in a[0]} & {t.path for t in a[1]}
    assert dataset.split(dataset.scan(tmp_path / "a")) == a
    assert a[2] == []  # no test split unless asked for


def test_a_test_split_is_held_out_from_training_and_from_validation(tmp_path: Path) -> None:
    train, validation, test = dataset.split(
        dataset.scan(make_folder(tmp_path, {"roofs": 20, "fields": 20})), validation_share=0.15, test_share=0.15
    )
    assert (len(train), len(validation), len(test)) == (28, 6, 6)
    paths = [{t.path for t in part} for part in (train, validation, test)]
    assert not (paths[0] & paths[1])
    assert not (paths[0] & paths[2])
    assert not (paths[1] & paths[2])
    with pytest.raises(dataset.DatasetError, match="leaving tiles to train"):
        dataset.split(dataset.scan(tmp_path), validation_share=0.5, test_share=0.5)


def test_load_resizes_and_names_the_bad_file(tmp_path: Path) -> None:
    folder = dataset.scan(make_folder(tmp_path, {"roofs": 2}))
    images, labels = dataset.load(folder.tiles, side=64)
    assert images.shape == (2, 64, 64, 3)
    assert labels.tolist() == [0, 0]
    (tmp_path / "roofs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(dataset.DatasetError, match=r"broken\.png"):
        dataset.load(dataset.scan(tmp_path).tiles)


def test_augment_keeps_size_and_content_and_varies_with_the_seed() -> None:
    image = np.zeros((256, 256, 3), dtype=np.uint8)
    image[:, :128] = 200
    augment = dataset.Augment(96)
    first = augment(image, np.random.default_rng(0))
    assert first.shape == (96, 96, 3)
    assert first.dtype == np.uint8
    assert np.array_equal(first, augment(image, np.random.default_rng(0)))
    views = {augment(image, np.random.default_rng(seed)).tobytes() for seed in range(8)}
    assert len(views) > 4


def test_jitter_identity_and_direction() -> None:
    image = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    same = dataset.jitter(image, brightness=1, contrast=1, saturation=1)
    assert np.abs(same.astype(int) - image).max() <= 1
    grey = dataset.jitter(image, brightness=1, contrast=1, saturation=0)
    assert np.abs(grey[:, :, 0].astype(int) - grey[:, :, 2]).max() <= 1
    assert dataset.jitter(image, brightness=1.2, contrast=1, saturation=1).mean() > image.mean()


def _periods(view: np.ndarray) -> float:
    """Stripes across the view, along whichever axis they run (turns may have swapped them)."""
    grey = view.mean(axis=2)
    counts = []
    for line in (grey[view.shape[0] // 2], grey[:, view.shape[1] // 2]):
        bright = line > line.mean()
        counts.append(np.count_nonzero(bright[1:] != bright[:-1]) / 2)
    return max(counts)


def test_crops_keep_the_ground_scale_density_is_read_from() -> None:
    """A tile of 16 stripes keeps 12 or more in every view; crops of 60 % of a tile left as few as 11."""
    image = np.zeros((256, 256, 3), dtype=np.uint8)
    for x in range(0, 256, 16):
        image[:, x : x + 8] = 220
    fewest = min(_periods(dataset.Augment(96)(image, np.random.default_rng(seed))) for seed in range(60))
    assert fewest >= 12
    loose = min(_periods(dataset.Augment(96, min_crop=0.6)(image, np.random.default_rng(seed))) for seed in range(60))
    assert loose < fewest
