"""One lock of dependencies for the local install and the image, and every deployed command in that image."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from typer.testing import CliRunner

from ops.cli import app
from ops.control import ALL
from ops.lockfile import entries
from tests.deploy.test_kubernetes import CANARY, OVERLAYS, WORKLOADS, build, containers

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def locked(name: str) -> dict[str, str]:
    return {e.name: e.version for e in entries((ROOT / name).read_text())}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.mark.parametrize(
    ("lock", "declared"),
    [("requirements.lock", PROJECT["dependencies"]),
     ("requirements-dev.lock", PROJECT["dependencies"] + PROJECT["optional-dependencies"]["dev"])],
)  # fmt: skip
def test_the_locks_pin_every_declared_dependency_within_what_pyproject_allows(lock: str, declared: list[str]) -> None:
    pins = locked(lock)
    for line in declared:
        wanted = Requirement(line)
        name = canonical(wanted.name)
        assert name in pins, f"{name} is declared but not in {lock}: run `make lock`"
        assert wanted.specifier.contains(pins[name], prereleases=True), f"{lock} has {name}=={pins[name]}: `make lock`"


def test_the_local_install_runs_exactly_what_the_image_runs_and_the_test_tools_beside_it() -> None:
    image, local = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: local.get(name) for name in image} == image


def test_the_image_and_the_local_install_install_from_the_locks_and_resolve_nothing_else() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    installs = re.findall(r"pip install [^\n\\]*", dockerfile)
    assert installs, "the Dockerfile installs with pip"
    assert any("--require-hashes" in i and "-r /tmp/requirements.txt" in i for i in installs)
    assert all("--no-deps" in i for i in installs), installs  # nothing resolved beside the lock
    assert "python -m ops.lockfile requirements.lock /tmp/requirements.txt" in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes -r requirements-dev.lock" in makefile
    assert "pip install --quiet --no-deps -e ." in makefile


def _compose_commands() -> list[tuple[str, list[str]]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    found = []
    for name, service in services.items():
        if service.get("build", {}).get("dockerfile") != "deploy/Dockerfile":
            continue
        found.append((name, service["command"]))
        check = service.get("healthcheck", {}).get("test")
        if check:
            found.append((f"{name} health check", check[1:]))
    return found


def _kubernetes_commands(overlay: str) -> list[tuple[str, list[str]]]:
    found = []
    for doc in build(overlay):
        if doc["kind"] not in WORKLOADS:
            continue
        for container in containers(doc):
            if "/vigia" not in container["image"] and not container["image"].startswith("vigia"):
                continue
            name = f"{doc['metadata']['name']}/{container['name']}"
            found.append((name, container.get("command", [])[1:] + container.get("args", [])))
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                if command := container.get(probe, {}).get("exec", {}).get("command"):
                    found.append((f"{name} {probe}", command))
    return found


def _runs_in_the_image(where: str, command: list[str]) -> None:
    args = command[1:] if command[:1] == ["vigia"] else command
    answer = CliRunner().invoke(app, [*args, "--help"])
    assert answer.exit_code == 0, f"{where}: `vigia {' '.join(args)}` is not a command of the image: {answer.output}"
    if args[:1] == ["probe"]:
        assert args[1] in ALL, f"{where}: no component {args[1]!r} to probe"


def test_every_compose_service_on_the_image_runs_a_command_the_image_has() -> None:
    commands = _compose_commands()
    assert len(commands) >= 10
    for where, command in commands:
        _runs_in_the_image(where, command)


@pytest.mark.parametrize("overlay", [*OVERLAYS, CANARY])
def test_every_kubernetes_pod_on_the_image_runs_a_command_the_image_has(overlay: str) -> None:
    commands = _kubernetes_commands(overlay)
    assert commands
    for where, command in commands:
        _runs_in_the_image(where, command)


def test_the_lock_is_what_the_project_runs_on_now() -> None:
    """The installed versions are the lock's: a test run is a run of what the image ships."""
    from importlib.metadata import distributions

    installed: dict[str, Any] = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    pins = locked("requirements-dev.lock")
    differ = {n: (v, installed[n]) for n, v in pins.items() if n in installed and installed[n] != v}
    assert not differ, f"installed versions differ from the lock (run `make install`): {differ}"
