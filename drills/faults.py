"""Faults a drill inflicts on the running stack, through its process supervisor."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable

from ops.control import components
from ops.supervisor import Supervisor
from vigia.settings import Settings

Ended = Callable[[], None]  # told the moment a fault ends: the process asked to start, the broker thawed


def _nothing() -> None:
    return None


def pid_of(settings: Settings, name: str) -> int:
    info = Supervisor(settings.state_dir).info(name) or {}
    pid = int(info.get("pid") or 0)
    if not pid:
        raise RuntimeError(f"{name} is not running")
    return pid


def kill_and_hold(settings: Settings, name: str, down_for: float, ended: Ended = _nothing) -> None:
    """SIGKILL `name`, keep it down for `down_for` seconds, start it again.

    The supervisor restarts a process that dies unexpectedly at once; it is stopped as soon
    as the kill is seen, so the outage lasts as long as the drill says.
    """
    supervisor = Supervisor(settings.state_dir)
    os.kill(pid_of(settings, name), signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        info = supervisor.info(name) or {}
        if info.get("statename") != "RUNNING" or int(info.get("pid") or 0) == 0:
            break
        time.sleep(0.05)
    supervisor.stop(name)
    time.sleep(down_for)
    start(settings, name, ended)


def stop_and_hold(settings: Settings, name: str, down_for: float, ended: Ended = _nothing) -> None:
    """Stop `name` in the orderly way, keep it down, start it again."""
    Supervisor(settings.state_dir).stop(name)
    time.sleep(down_for)
    start(settings, name, ended)


def pause(settings: Settings, name: str, paused_for: float, ended: Ended = _nothing) -> None:
    """SIGSTOP then SIGCONT: the process is frozen, its sockets stay open and silent."""
    pid = pid_of(settings, name)
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(paused_for)
    finally:
        ended()
        os.kill(pid, signal.SIGCONT)


def start(settings: Settings, name: str, ended: Ended = _nothing, timeout: float = 120) -> None:
    """Start `name` and wait until it answers its health probe.

    `ended` is called as the start is asked for: the outage ends there, and recovery, the
    process's own start-up included, is counted from there.
    """
    [component] = [c for c in components(settings, [name]) if c.name == name]
    component.before_start()
    ended()
    Supervisor(settings.state_dir).start(name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if component.probe().healthy:
            return
        time.sleep(0.5)
    raise RuntimeError(f"{name} did not become healthy within {timeout:.0f} s")
