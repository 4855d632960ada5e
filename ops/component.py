"""What the local stack needs to know of each process it runs.

A component prepares its files, names the command supervisord runs, and probes its own
health. Infrastructure (Mosquitto, Kafka, TimescaleDB) and our services share this shape,
so `vigia up` starts both the same way and in one order.
"""

from __future__ import annotations

import hashlib
import os
import pwd
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from vigia.settings import Settings


@dataclass(frozen=True)
class Program:
    """How supervisord runs one component."""

    command: list[str]
    user: str | None = None
    directory: Path | None = None
    environment: dict[str, str] = field(default_factory=dict)
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    startsecs: int = 1


@dataclass(frozen=True)
class Health:
    healthy: bool
    detail: str


class StackError(RuntimeError):
    """A component could not be prepared or started; the message says what to do."""


class Component(ABC):
    name: str
    kind: str  # "infra" or "service"
    start_timeout: float = 60.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        """Whether this stack runs the component at all (a stand-in only runs where the real thing is absent)."""
        return True

    @property
    def group(self) -> str:
        """What the component is one of: its own name, or its cluster's (`kafka` for `kafka-2`).
        The members of a group start together, then are waited for."""
        return type(self).name

    @property
    def user(self) -> str | None:
        """The system user the process runs as; None: the user who runs `vigia up`."""
        return None

    @property
    def home(self) -> Path:
        """Its configuration and data (see `daemon_home`)."""
        return daemon_home(self.settings, self.name, self.user)

    @property
    def log_path(self) -> Path:
        return self.settings.log_dir / f"{self.name}.log"

    def prepare(self) -> None:
        """Create config and data files. Must be idempotent."""
        return None

    @abstractmethod
    def program(self) -> Program: ...

    @abstractmethod
    def endpoint(self) -> str: ...

    @abstractmethod
    def probe(self) -> Health: ...

    def before_start(self) -> None:
        """Clear what an earlier process left that would pass for this one's health."""
        return None

    def after_start(self) -> None:
        """Work that needs the component running (bootstrap, schema, topics). Idempotent."""
        return None

    def version(self) -> str | None:
        return None


def running_as_root() -> bool:
    return os.geteuid() == 0


def service_user(name: str) -> str | None:
    """Daemons refuse to run as root; when we are root, run them as their packaged user."""
    if not running_as_root():
        return None
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise StackError(f"system user {name!r} is missing; run `make install` first") from exc
    return name


def daemon_root(settings: Settings) -> Path:
    """This state directory's folder under `daemon_dir`: one per checkout, so two stacks never share a cluster."""
    key = hashlib.sha256(str(settings.state_dir.resolve()).encode()).hexdigest()[:12]
    return settings.daemon_dir / key


def daemon_home(settings: Settings, name: str, user: str | None) -> Path:
    """Where a component keeps its files.

    In the state directory, unless the component runs as a system user of its own: that
    user cannot enter a checkout under a directory only its owner may enter (root's home,
    a `mktemp -d` folder), and loosening the user's permissions is not ours to do. Such a
    component keeps its files in a folder that user owns under `daemon_dir`. A state
    directory that already holds the component's files (made before this rule) keeps them.
    """
    inside = settings.state_dir / name
    if user is None or inside.exists():
        return inside
    return daemon_root(settings) / name


def prepare_daemon_home(settings: Settings, home: Path, user: str | None) -> None:
    """Create `home` for `user`; under `daemon_dir`, with a note saying which state directory it serves."""
    outside = home.is_relative_to(settings.daemon_dir)
    if outside:
        root = daemon_root(settings)
        for folder in (settings.daemon_dir, root):
            if not folder.exists():
                folder.mkdir(parents=True)
                folder.chmod(0o755)  # root's own; the daemons only pass through to their folder
        (root / "STATE_DIR").write_text(f"{settings.state_dir.resolve()}\n")
    home.mkdir(parents=True, exist_ok=True)
    if outside:
        home.chmod(0o700)
        give_to(user, home)


def give_to(user: str | None, *paths: Path) -> None:
    """Hand files to the user a daemon runs as (no-op when we are not root)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for path in paths:
        for root, dirs, files in os.walk(path):
            os.chown(root, entry.pw_uid, entry.pw_gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)
