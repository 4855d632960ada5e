"""Vigía's own processes as stack components: the bridge, the stream, inference and notifier workers, the API."""

from __future__ import annotations

import os
import sys

import httpx

from ops.component import Component, Health, Program
from vigia.heartbeat import age, heartbeat_path
from vigia.settings import Settings

HEARTBEAT_MAX_AGE = 15.0


def _vigia(*args: str) -> list[str]:
    return [sys.executable, "-m", "ops", *args]


def _vigia_environment() -> dict[str, str]:
    """Pass the caller's VIGIA_* settings through, so services see what `vigia up` saw."""
    return {key: value for key, value in os.environ.items() if key.startswith("VIGIA_")}


class _HeartbeatService(Component):
    kind = "service"
    start_timeout = 90.0

    def program(self) -> Program:
        return Program(
            command=_vigia(self.name, "run"),
            environment={**_vigia_environment(), "VIGIA_STATE_DIR": str(self.settings.state_dir)},
            stopwaitsecs=30,
        )

    def before_start(self) -> None:
        """A killed worker's heartbeat is seconds old and would pass for the new process's."""
        heartbeat_path(self.settings.state_dir, self.name).unlink(missing_ok=True)

    def probe(self) -> Health:
        seconds = age(heartbeat_path(self.settings.state_dir, self.name))
        if seconds is None:
            return Health(False, "no heartbeat yet")
        if seconds > HEARTBEAT_MAX_AGE:
            return Health(False, f"last heartbeat {seconds:.0f} s ago")
        return Health(True, f"heartbeat {seconds:.0f} s ago")


class Bridge(_HeartbeatService):
    name = "bridge"

    def endpoint(self) -> str:
        return f"mqtt://{self.settings.mqtt_host}:{self.settings.mqtt_port} -> kafka://{self.settings.kafka_bootstrap}"


class StreamWorker(_HeartbeatService):
    name = "stream"

    def endpoint(self) -> str:
        return f"kafka://{self.settings.kafka_bootstrap} -> {self.settings.db_host}:{self.settings.db_port}"


class InferenceWorker(_HeartbeatService):
    name = "inference"

    def endpoint(self) -> str:
        return f"kafka://{self.settings.kafka_bootstrap} ({self.settings.inference_threads} inference lanes)"


class Notifier(_HeartbeatService):
    name = "notifier"

    def endpoint(self) -> str:
        return f"kafka://{self.settings.kafka_bootstrap} -> SMS (Kannel), Apprise channels, webhooks"


class StandInSmsc(_HeartbeatService):
    """The carrier's SMS centre, played on this machine when no real SMSC is configured."""

    name = "smsc"

    @classmethod
    def enabled(cls, settings: Settings) -> bool:
        return settings.kannel_smsc_file is None

    def endpoint(self) -> str:
        return (
            f"tcp://127.0.0.1:{self.settings.kannel_fake_smsc_port} (phones write on :{self.settings.smsc_inject_port})"
        )


class Api(Component):
    name = "api"
    kind = "service"
    start_timeout = 45.0

    @property
    def url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def program(self) -> Program:
        return Program(
            command=_vigia("api", "run"),
            environment={**_vigia_environment(), "VIGIA_STATE_DIR": str(self.settings.state_dir)},
            stopwaitsecs=20,
        )

    def endpoint(self) -> str:
        return self.url

    def probe(self) -> Health:
        try:
            response = httpx.get(f"{self.url}/healthz", timeout=3)
        except httpx.HTTPError as exc:
            return Health(False, f"{type(exc).__name__}")
        if response.status_code != 200:
            return Health(False, f"/healthz answered {response.status_code}")
        return Health(True, "/healthz ok")
