"""The imagery archive: every tile image the model assessed, kept by the hash of its bytes.

The inference worker writes an image here before it records the assessment, and the
`imagery` table says which image a tile had at which acquisition time; the API reads the
same files to serve the district's own imagery as map tiles, and a newly promoted model
can assess them again. Content addressing makes a replayed or re-sent image cost nothing
and never overwrite another. Locally the archive is a folder of the state directory; in
docker-compose and Kubernetes a volume shared by the inference workers and the API
(`VIGIA_IMAGERY_ARCHIVE_DIR`).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from vigia.settings import Settings

HEX = frozenset("0123456789abcdef")


class ArchiveError(LookupError):
    """An image the archive does not hold, or a name that is not one of its digests."""


class ImageryArchive:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageryArchive:
        return cls(settings.imagery_archive_dir or settings.state_dir / "imagery")

    def path(self, digest: str) -> Path:
        if len(digest) != 64 or not set(digest) <= HEX:
            raise ArchiveError(f"not an archive digest: {digest[:80]!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        """Keep `data` once; its SHA-256 (hex) names it. Written whole or not at all."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return self.path(digest).read_bytes()
        except FileNotFoundError as error:
            raise ArchiveError(f"the archive holds no image {digest}") from error
