"""Heartbeat files: how a worker with no HTTP port tells the supervisor it is alive and ready.

The worker touches its file while it is connected and working; the stack's probe checks the
file is fresh. Files are cheap, need no port, and say nothing once the process is gone.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path


def heartbeat_path(state_dir: Path, name: str) -> Path:
    return state_dir / "run" / f"{name}.heartbeat"


def beat(path: Path) -> None:
    """Write the file whole (a temporary file renamed over it), each process through its own
    temporary file: two workers of one state directory must not take each other's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(f"{time.time()}\n")
    tmp.replace(path)


def age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last beat, or None when there was none."""
    try:
        stamp = float(path.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None
    return (time.time() if now is None else now) - stamp


def clear(path: Path) -> None:
    path.unlink(missing_ok=True)


async def beat_forever(path: Path, *, alive: Callable[[], bool] = lambda: True, every: float = 2.0) -> None:
    """Beat every `every` seconds while `alive()` says the worker is connected and working."""
    while True:
        if alive():
            beat(path)
        await asyncio.sleep(every)
