"""A worker's health comes from its heartbeat file; a new process must not inherit the old one's."""

from __future__ import annotations

from pathlib import Path

from ops.services import Bridge
from vigia.heartbeat import beat, heartbeat_path
from vigia.settings import Settings


def test_a_restart_does_not_pass_on_the_heartbeat_a_killed_worker_left(tmp_path: Path) -> None:
    bridge = Bridge(Settings(state_dir=tmp_path))
    path = heartbeat_path(tmp_path, "bridge")
    path.parent.mkdir(parents=True)
    beat(path)
    assert bridge.probe().healthy
    bridge.before_start()
    assert not bridge.probe().healthy
    bridge.before_start()  # nothing to clear the second time


def test_two_workers_beating_one_file_never_take_each_others_temporary_file(tmp_path: Path) -> None:
    import multiprocessing

    path = heartbeat_path(tmp_path, "stream")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_beat_often, [path, path])  # raises here if a rename lost its file
    assert path.exists()
    assert list(tmp_path.glob("run/*.tmp")) == []


def _beat_often(path: Path) -> None:
    for _ in range(2000):
        beat(path)
