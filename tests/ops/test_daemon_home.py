"""Where a daemon that runs as its own user keeps its files."""

from __future__ import annotations

from pathlib import Path

from ops.component import daemon_home, daemon_root
from vigia.settings import Settings


def settings(tmp_path: Path, checkout: str) -> Settings:
    return Settings(state_dir=tmp_path / checkout / ".vigia", daemon_dir=tmp_path / "daemons")


def test_a_process_running_as_the_caller_keeps_its_files_in_the_state_directory(tmp_path: Path) -> None:
    s = settings(tmp_path, "a")
    assert daemon_home(s, "kafka", None) == s.state_dir / "kafka"


def test_a_daemon_with_its_own_user_keeps_them_outside_one_folder_per_state_directory(tmp_path: Path) -> None:
    a, b = settings(tmp_path, "a"), settings(tmp_path, "b")
    home = daemon_home(a, "timescaledb", "postgres")
    assert home == daemon_root(a) / "timescaledb"
    assert home.is_relative_to(tmp_path / "daemons")
    assert daemon_root(a) != daemon_root(b)
    assert daemon_root(a) == daemon_root(settings(tmp_path, "a"))


def test_files_an_older_stack_made_in_the_state_directory_stay_there(tmp_path: Path) -> None:
    s = settings(tmp_path, "a")
    (s.state_dir / "timescaledb" / "data").mkdir(parents=True)
    assert daemon_home(s, "timescaledb", "postgres") == s.state_dir / "timescaledb"
