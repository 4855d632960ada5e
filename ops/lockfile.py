"""The image's requirements from the project's lock: every version and hash, torch's CPU build.

The lock (`requirements.lock`, made by `make lock`) pins what the local install runs,
which on x86_64 Linux is PyPI's torch: the CUDA build, with about 2.5 GB of nvidia-* and
triton packages that a CPU-only image never loads. The image takes every other entry as
locked, hashes included, and the CPU build of the same torch version from PyTorch's own
index. Run in the image's build stage before anything is installed, so standard library only:

    python -m ops.lockfile requirements.lock /tmp/requirements.txt   # prints torch==<version>+cpu
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

CUDA_RUNTIME = re.compile(r"^(torch|triton|nvidia-.+|cuda-.+)$")  # torch and the CUDA stack its PyPI build pulls in
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


class LockError(ValueError):
    """A lock this step cannot use, with why."""


@dataclass
class Entry:
    name: str
    version: str
    lines: list[str]  # the pin, its `--hash` continuation lines and comments


def entries(text: str) -> list[Entry]:
    found: list[Entry] = []
    for line in text.splitlines():
        if pin := PIN.match(line):
            found.append(Entry(pin.group(1).lower(), pin.group(2), [line]))
        elif found and line.startswith((" ", "\t")):
            found[-1].lines.append(line)
    return found


def for_image(text: str) -> tuple[str, str]:
    """The lock without torch's CUDA build and what it pulls in, and the CPU torch to install beside it."""
    locked = entries(text)
    torch = next((e.version for e in locked if e.name == "torch"), None)
    if torch is None:
        raise LockError("the lock pins no torch version")
    kept = [line for e in locked if not CUDA_RUNTIME.match(e.name) for line in e.lines]
    return "\n".join(kept) + "\n", f"torch=={torch.split('+')[0]}+cpu"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m ops.lockfile LOCK OUTPUT", file=sys.stderr)
        return 2
    try:
        requirements, torch = for_image(Path(argv[0]).read_text())
    except (OSError, LockError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    Path(argv[1]).write_text(requirements)
    print(torch)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
