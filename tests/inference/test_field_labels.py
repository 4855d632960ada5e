"""The training folder made of field labels: every class kept in mind, local tiles weighing more."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference import dataset
from inference.field_labels import LabelError, assemble

PNG = b"\x89PNG\r\n\x1a\n"


def original(root: Path) -> Path:
    for cls, count in (("roofs", 5), ("fields", 5), ("water", 1)):
        (root / cls).mkdir(parents=True)
        for i in range(count):
            (root / cls / f"{cls}{i}.png").write_bytes(PNG)
    return root


def test_labelled_tiles_join_some_of_the_original_ones_repeated(tmp_path: Path) -> None:
    labelled = [("19/1/2", "roofs", b"a"), ("19/1/3", "water", b"b")]
    used = assemble(tmp_path / "out", labelled, ("fields", "roofs", "water"), original(tmp_path / "orig"), replay=2)
    assert used == 2
    folder = dataset.scan(tmp_path / "out")
    assert folder.classes == ("fields", "roofs", "water")
    names = sorted(p.name for p in (tmp_path / "out" / "roofs").iterdir())
    assert names == ["field-19_1_2-0.png", "field-19_1_2-1.png", "field-19_1_2-2.png", "roofs0.png", "roofs1.png"]
    assert (tmp_path / "out" / "roofs" / "field-19_1_2-0.png").read_bytes() == b"a"


def test_labels_the_model_does_not_know_or_none_at_all_are_refused(tmp_path: Path) -> None:
    orig = original(tmp_path / "orig")
    with pytest.raises(LabelError, match="does not know: esteras"):
        assemble(tmp_path / "a", [("19/1/2", "esteras", b"a")], ("fields", "roofs", "water"), orig)
    with pytest.raises(LabelError, match="label tiles on the map first"):
        assemble(tmp_path / "b", [], ("fields", "roofs", "water"), orig)
