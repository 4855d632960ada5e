"""A training folder made of the labels people gave on the ground, with some of the original tiles beside them.

Fine-tuning on a few dozen local tiles alone would make the model forget the classes those
tiles do not show; each class therefore keeps `replay` of its original tiles, and each
labelled tile is repeated `repeat` times so the local ones weigh more than their number.
The folder is `<class>/<name>` like any other (`inference/dataset.py`).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from inference.dataset import EXTENSIONS


class LabelError(ValueError):
    """Labels the model cannot learn from, with what is wrong."""


def assemble(
    root: Path,
    labelled: Sequence[tuple[str, str, bytes]],
    classes: Sequence[str],
    original: Path,
    *,
    replay: int = 20,
    repeat: int = 3,
) -> int:
    """Write the folder; `labelled` is (tile id, class, image bytes). Returns how many labelled tiles it holds."""
    unknown = sorted({cls for _, cls, _ in labelled} - set(classes))
    if unknown:
        raise LabelError(f"labels the model does not know: {', '.join(unknown)} (it knows {', '.join(classes)})")
    if not labelled:
        raise LabelError("no labelled tile has archived imagery: label tiles on the map first")
    for cls in classes:
        (root / cls).mkdir(parents=True, exist_ok=True)
        kept = sorted(p for p in (original / cls).glob("*") if p.suffix.lower() in EXTENSIONS)[:replay]
        for path in kept:
            shutil.copyfile(path, root / cls / path.name)
        if not kept and not any(cls == c for _, c, _ in labelled):
            raise LabelError(f"{original / cls} has no tiles to keep the class {cls!r} in mind")
    for tile_id, cls, data in labelled:
        for copy in range(repeat):
            (root / cls / f"field-{tile_id.replace('/', '_')}-{copy}.png").write_bytes(data)
    return len(labelled)
