"""The real stack for integration tests: started through the same code as `vigia up`.

It runs on its own ports and state directory, so a developer's running demo is untouched,
and is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.registry import ModelRegistry, RegisteredVersion
from ops import control
from ops.component import daemon_root
from tests.integration.helpers import served_by
from vigia.settings import Settings

SMTP_PORT = 29025  # the email test's SMTP server (tests/integration/test_phones.py)
CHAT_PORT = 29026  # what stands in for WhatsApp's and Telegram's servers (tests/integration/test_chats.py)
CHAT_SECRETS = {"telegram": "it-telegram-secret", "verify": "it-verify-token", "app": "it-app-secret"}
APPRISE_URLS = {
    "email": f"mailto://127.0.0.1:{SMTP_PORT}/{{target}}?from=vigia@example.org",
    "whatsapp": f"json://127.0.0.1:{CHAT_PORT}/whatsapp/{{target}}",
    "telegram": f"json://127.0.0.1:{CHAT_PORT}/telegram/{{target}}",
}

TEST_ENV = {
    "VIGIA_MQTT_PORT": "21883",
    "VIGIA_MQTT_TLS_PORT": "21884",
    "VIGIA_MQTT_SIMULATOR_DISTRICTS": '["*"]',  # the tests publish in districts of their own
    "VIGIA_KAFKA_BOOTSTRAP": "127.0.0.1:29092",
    "VIGIA_KAFKA_CONTROLLER_PORT": "29093",
    "VIGIA_DB_PORT": "25433",
    "VIGIA_API_PORT": "28080",
    "VIGIA_KAFKA_HEAP": "512m",
    "VIGIA_REGISTRY_REFRESH_SECONDS": "5",
    "VIGIA_BRIDGE_METRICS_PORT": "29101",
    "VIGIA_STREAM_METRICS_PORT": "29102",
    "VIGIA_INFERENCE_METRICS_PORT": "29103",
    "VIGIA_INFERENCE_PORT": "29105",
    "VIGIA_NOTIFIER_METRICS_PORT": "29104",
    "VIGIA_MODEL_CHECK_SECONDS": "1",
    "VIGIA_MLFLOW_PORT": "25000",
    "VIGIA_KANNEL_ADMIN_PORT": "29130",
    "VIGIA_KANNEL_BOX_PORT": "29131",
    "VIGIA_KANNEL_SENDSMS_PORT": "29132",
    "VIGIA_KANNEL_FAKE_SMSC_PORT": "29133",
    "VIGIA_SMSC_INJECT_PORT": "29134",
    "VIGIA_APPRISE_URLS": json.dumps(APPRISE_URLS),
    "VIGIA_TELEGRAM_WEBHOOK_SECRET": CHAT_SECRETS["telegram"],
    "VIGIA_WHATSAPP_VERIFY_TOKEN": CHAT_SECRETS["verify"],
    "VIGIA_WHATSAPP_APP_SECRET": CHAT_SECRETS["app"],
    "VIGIA_WEBHOOK_ALLOW_PRIVATE": "true",  # the test's webhook receiver listens on loopback
    "VIGIA_API_RATE_LIMIT": "100000/minute",  # the schema fuzzing would otherwise test the limit (see tests/api)
}


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.fixture(scope="session")
def stack() -> Iterator[Settings]:
    # mkdtemp makes a folder only its owner may enter, like root's home, and the stack runs from
    # a checkout inside it: what runs as another user (PostgreSQL, Mosquitto) must still start.
    private = Path(tempfile.mkdtemp(prefix="vigia-it-"))
    state_dir = private / "checkout" / ".vigia"
    saved = {key: os.environ.get(key) for key in [*TEST_ENV, "VIGIA_STATE_DIR"]}
    os.environ.update(TEST_ENV)
    os.environ["VIGIA_STATE_DIR"] = str(state_dir)
    settings = Settings()
    try:
        rows = control.up(settings)
        pids = [row.pid for row in rows if row.pid]
        yield settings
    finally:
        control.down(settings, purge=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    still_running = [pid for pid in pids if _alive(pid)]
    assert not still_running, f"processes left running after `down`: {still_running}"
    assert not daemon_root(settings).exists(), "`down --purge` left the daemons' files behind"
    shutil.rmtree(private, ignore_errors=True)


@pytest.fixture
def champion_restored(stack: Settings) -> Iterator[RegisteredVersion]:
    """The champion before the test, made champion again after it: later tests expect the shipped model."""
    registry = ModelRegistry(stack)
    before = registry.ensure_champion()
    yield before
    registry.promote(before.number)
    served_by(stack, stack.inference_port, before.version)
