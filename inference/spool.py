"""Tiles held on disk until a whole scene has been read, so a scene that turns out damaged half-way queues nothing.

Cutting a scene is a stream (a scene may be larger than memory), and GDAL finds a
truncated file only when it reaches the missing blocks. The tiles are therefore written as
PNGs to a temporary folder of the state directory as they are cut, and queued only once the
last one was read; the folder goes when the spool is closed, whatever happened.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from tqdm import tqdm

from inference.intake import encode_png
from inference.tiling import ImageTile


@dataclass(frozen=True)
class Held:
    tile_id: str
    source: str
    captured_at: datetime
    path: Path


class TileSpool:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self._dir = tempfile.TemporaryDirectory(prefix="spool-", dir=state_dir)
        self.root = Path(self._dir.name)
        self.held: list[Held] = []

    def __enter__(self) -> TileSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._dir.cleanup()

    def __len__(self) -> int:
        return len(self.held)

    def fill(self, tiles: Iterable[ImageTile], *, show_progress: bool = False) -> None:
        """Write every tile; whatever the iterable raises (a damaged scene) reaches the caller, nothing queued."""
        for tile in tqdm(tiles, desc="cutting", unit="tile", disable=not show_progress):
            path = self.root / f"{len(self.held):07d}.png"
            path.write_bytes(encode_png(tile))
            self.held.append(Held(tile.tile_id, tile.source, tile.captured_at, path))

    def tiles(self) -> Iterator[ImageTile]:
        for held in self.held:
            yield ImageTile(
                tile_id=held.tile_id, source=held.source, captured_at=held.captured_at, data=held.path.read_bytes()
            )
