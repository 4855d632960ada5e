"""`vigia up`, `down` and `status`: start the stack in order, wait for health, stop what we started."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ops.component import Component, Health, StackError, daemon_root
from ops.kafka import Kafka, nodes
from ops.kannel import Kannel, SmsBox
from ops.mlflow import MlflowServer
from ops.mosquitto import Mosquitto
from ops.services import Api, Bridge, InferenceWorker, Notifier, StandInSmsc, StreamWorker
from ops.supervisor import RUNNING, STOPPED_STATES, Supervisor
from ops.timescaledb import TimescaleDB
from vigia.settings import Settings

ORDER: tuple[type[Component], ...] = (
    Mosquitto, Kafka, TimescaleDB, MlflowServer, Kannel, SmsBox, StandInSmsc,
    Bridge, StreamWorker, InferenceWorker, Notifier, Api,
)  # fmt: skip
INFRA = tuple(c.name for c in ORDER if c.kind == "infra")
ALL = tuple(c.name for c in ORDER)

Report = Callable[[str], None]


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    state: str
    pid: int | None
    endpoint: str
    log: Path
    health: Health | None
    version: str | None
    files: Path | None = None
    """Where a broker or the database keeps its configuration and data."""


def components(settings: Settings, names: Iterable[str] | None = None) -> list[Component]:
    """The stack in start order, or the `names` of it: a cluster's name (`kafka`) means all its nodes."""
    every: list[Component] = []
    for cls in ORDER:
        if not cls.enabled(settings):
            continue
        every += [Kafka(settings, node) for node in nodes(settings)] if cls is Kafka else [cls(settings)]
    if names is None:
        return every
    wanted = set(names)
    known = {c.name for c in every} | set(ALL)
    if unknown := wanted - known:
        raise StackError(f"unknown component(s) {sorted(unknown)}; known: {', '.join(sorted(known))}")
    return [c for c in every if c.name in wanted or c.group in wanted]


def _groups(selected: list[Component]) -> list[list[Component]]:
    """Consecutive components of one group (a cluster's nodes) together, the rest alone."""
    found: list[list[Component]] = []
    for component in selected:
        if found and found[-1][0].group == component.group:
            found[-1].append(component)
        else:
            found.append([component])
    return found


def _pid_record(settings: Settings) -> Path:
    return settings.state_dir / "run" / "pids.json"


def _cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def _remember(settings: Settings, name: str, pid: int) -> None:
    path = _pid_record(settings)
    record = json.loads(path.read_text()) if path.exists() else {}
    record[name] = {"pid": pid, "cmdline": _cmdline(pid)}
    path.write_text(json.dumps(record, indent=2))


def _wait_healthy(component: Component, supervisor: Supervisor, report: Report) -> Health:
    deadline = time.monotonic() + component.start_timeout
    health = Health(False, "not probed yet")
    while time.monotonic() < deadline:
        info = supervisor.info(component.name) or {}
        state = info.get("statename", "UNKNOWN")
        if state in {"FATAL", "EXITED"} or (state == "BACKOFF" and info.get("spawnerr")):
            raise StackError(
                f"{component.name} exited ({state}); last lines of {component.log_path}:\n{_tail(component.log_path)}"
            )
        if state == RUNNING:
            health = component.probe()
            if health.healthy:
                return health
        time.sleep(0.5)
    raise StackError(
        f"{component.name} not healthy after {component.start_timeout:.0f} s ({health.detail}); "
        f"last lines of {component.log_path}:\n{_tail(component.log_path)}"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log yet)"


def up(settings: Settings, names: Iterable[str] | None = None, report: Report = print) -> list[ComponentStatus]:
    """Start the selected components in order, each healthy before the next; idempotent."""
    selected = components(settings, names)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(settings.state_dir)
    every = components(settings)
    for component in selected:
        component.prepare()
    supervisor.write_config(every)
    supervisor.ensure_running()
    for group in _groups(selected):
        # A cluster's nodes start together: none is healthy before a majority of them runs.
        starting = []
        for component in group:
            info = supervisor.info(component.name) or {}
            if info.get("statename") == RUNNING and component.probe().healthy:
                report(f"{component.name}: already running")
            else:
                report(f"{component.name}: starting")
                component.before_start()
                supervisor.start(component.name)
                starting.append(component)
        for component in starting:
            _wait_healthy(component, supervisor, report)
        for component in group:
            component.after_start()
            info = supervisor.info(component.name) or {}
            if info.get("pid"):
                _remember(settings, component.name, int(info["pid"]))
    return status(settings, [c.name for c in selected])


def send_signal(settings: Settings, name: str, signame: str) -> bool:
    """Send a signal to a running component (e.g. HUP to reload); False when it is not running."""
    supervisor = Supervisor(settings.state_dir)
    if not supervisor.is_running():
        return False
    info = supervisor.info(name)
    if not info or info.get("statename") != RUNNING:
        return False
    supervisor.rpc.signalProcess(name, signame)
    return True


def restart(settings: Settings, names: Iterable[str], report: Report = print) -> list[ComponentStatus]:
    """Stop and start the named components, waiting for health as `up` does."""
    supervisor = Supervisor(settings.state_dir)
    if supervisor.is_running():
        for component in reversed(components(settings, names)):
            report(f"{component.name}: stopping")
            supervisor.stop(component.name)
    return up(settings, names, report)


def down(settings: Settings, purge: bool = False, report: Report = print) -> None:
    """Stop every component of this state directory, newest first, then supervisord itself."""
    supervisor = Supervisor(settings.state_dir)
    if supervisor.is_running():
        for component in reversed(components(settings)):
            info = supervisor.info(component.name)
            if info and info.get("statename") not in STOPPED_STATES:
                report(f"{component.name}: stopping")
                supervisor.stop(component.name)
        supervisor.shutdown()
    _kill_leftovers(settings, report)
    _pid_record(settings).unlink(missing_ok=True)
    if purge:
        for child in settings.state_dir.iterdir() if settings.state_dir.exists() else []:
            if child.name == "cache":
                continue  # downloaded jars: not data, and slow to fetch again
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
        report(f"purged {settings.state_dir} (kept cache/)")
        daemons = daemon_root(settings)
        if daemons.exists():
            shutil.rmtree(daemons)
            report(f"purged {daemons}")


def _kill_leftovers(settings: Settings, report: Report) -> None:
    """A process we started survives only if supervisord itself was killed; end it too."""
    path = _pid_record(settings)
    if not path.exists():
        return
    for name, entry in json.loads(path.read_text()).items():
        pid = int(entry["pid"])
        if entry.get("cmdline") and _cmdline(pid) == entry["cmdline"]:
            report(f"{name}: ending orphaned process {pid}")
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if _cmdline(pid) is None:
                    break
                time.sleep(0.2)
            else:
                os.kill(pid, signal.SIGKILL)


def status(settings: Settings, names: Iterable[str] | None = None) -> list[ComponentStatus]:
    supervisor = Supervisor(settings.state_dir)
    alive = supervisor.is_running()
    rows = []
    for component in components(settings, names):
        info = supervisor.info(component.name) if alive else None
        state = info["statename"] if info else "STOPPED"
        running = state == RUNNING
        rows.append(
            ComponentStatus(
                name=component.name,
                state=state,
                pid=int(info["pid"]) if info and info.get("pid") else None,
                endpoint=component.endpoint(),
                log=component.log_path,
                health=component.probe() if running else None,
                version=component.version() if running else None,
                files=component.home if component.kind == "infra" else None,
            )
        )
    return rows
