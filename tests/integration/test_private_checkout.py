"""The stack runs from a checkout only its owner may enter, and leaves that checkout as it was."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from ops.component import daemon_root
from ops.timescaledb import TimescaleDB
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def test_the_checkout_stays_private_and_the_daemons_files_live_where_their_users_can_reach(stack: Settings) -> None:
    private = stack.state_dir.parent.parent
    assert stat.S_IMODE(private.stat().st_mode) == 0o700, "the user's own directory was loosened"
    if os.geteuid() != 0:
        pytest.skip("not root: every process runs as the caller, inside the state directory")
    database = TimescaleDB(stack)
    assert database.data_dir.is_relative_to(daemon_root(stack))
    assert (database.data_dir / "PG_VERSION").exists()
    assert database.data_dir.owner() == "postgres"
    assert (daemon_root(stack) / "STATE_DIR").read_text().strip() == str(stack.state_dir.resolve())
    assert not (stack.state_dir / "timescaledb").exists()
    assert not (stack.state_dir / "mosquitto").exists()


def test_status_says_where_the_database_keeps_its_files(stack: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ops", "status"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"COLUMNS": "300"},
    )
    database = next(line for line in result.stdout.splitlines()[1:] if "files:" in line and "timescaledb" in line)
    assert str(TimescaleDB(stack).home) in database
