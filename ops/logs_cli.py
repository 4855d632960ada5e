"""`vigia logs [COMPONENT] [--follow] [--grep TEXT]`: the local stack's logs, for a person.

Vigía's processes write JSON lines (`vigia/logs.py`); this shows them as one line each,
time, level, component, message and the ids it concerns, merged by time when no component
is named. Brokers and the database keep their own formats and are shown as they are when
named (`vigia logs kafka`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from ops import control
from vigia.logs import CONTEXT_FIELDS
from vigia.settings import load_settings
from vigia.terminal import console, fail

SERVICES = ("bridge", "stream", "inference", "notifier", "api", "smsc")


def parse(raw: str) -> dict[str, Any] | None:
    """A JSON log line as a dict; None for a line in another format."""
    if not raw.startswith("{"):
        return None
    try:
        line = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return line if isinstance(line, dict) and "message" in line else None


def render(raw: str, component: str) -> str:
    line = parse(raw)
    if line is None:
        return f"{'':12} {'':7} {component:<9} {raw}"
    ids = " ".join(f"{name}={line[name]}" for name in CONTEXT_FIELDS if name in line)
    text = f"{line.get('time', '')[11:23]:12} {line.get('level', ''):7} {line.get('component', component):<9} "
    text += str(line["message"]) + (f"  [{ids}]" if ids else "")
    return text + (f"\n{line['error']}" if "error" in line else "")


def _tail(path: Path, lines: int) -> tuple[list[str], int]:
    if not path.exists():
        return [], 0
    data = path.read_bytes()
    return data.decode(errors="replace").splitlines()[-lines:], len(data)


def show(
    component: Annotated[str | None, typer.Argument(help="one component; default: Vigía's own processes")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new lines")] = False,
    grep: Annotated[str, typer.Option(help="only lines containing this text")] = "",
    lines: Annotated[int, typer.Option(help="how many of the newest lines of each log")] = 50,
) -> None:
    """The stack's logs, readable: JSON lines as one line each, merged by time."""
    settings = load_settings()
    if component is not None and component not in control.ALL:
        raise fail(f"no component {component!r}; one of {', '.join(control.ALL)}")
    names = [component] if component else list(SERVICES)
    paths = {name: settings.log_dir / f"{name}.log" for name in names}
    shown: list[tuple[str, str]] = []
    offsets = {}
    for name, path in paths.items():
        found, offsets[name] = _tail(path, lines)
        shown += [(name, raw) for raw in found]
    shown.sort(key=lambda item: (parse(item[1]) or {}).get("time", ""))
    for name, raw in shown:
        if grep in raw:
            console.print(render(raw, name), highlight=False, markup=False)
    while follow:
        time.sleep(0.5)
        for name, path in paths.items():
            if not path.exists() or path.stat().st_size <= offsets[name]:
                continue
            with path.open("rb") as source:
                source.seek(offsets[name])
                fresh = source.read()
            offsets[name] += len(fresh)
            for raw in fresh.decode(errors="replace").splitlines():
                if grep in raw:
                    console.print(render(raw, name), highlight=False, markup=False)
