"""The imagery archive keeps each image once, by the hash of its bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vigia.archive import ArchiveError, ImageryArchive


def test_an_image_is_kept_once_under_its_hash_and_read_back(tmp_path: Path) -> None:
    archive = ImageryArchive(tmp_path)
    digest = archive.put(b"roofs of Villa Hermosa")
    assert digest == hashlib.sha256(b"roofs of Villa Hermosa").hexdigest()
    assert archive.put(b"roofs of Villa Hermosa") == digest
    assert archive.get(digest) == b"roofs of Villa Hermosa"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [digest]  # no temporary files left


def test_a_missing_image_and_a_name_that_is_not_a_digest_are_refused(tmp_path: Path) -> None:
    archive = ImageryArchive(tmp_path)
    with pytest.raises(ArchiveError, match="holds no image"):
        archive.get("0" * 64)
    with pytest.raises(ArchiveError, match="not an archive digest"):
        archive.get("../../etc/passwd")
