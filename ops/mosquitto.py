"""Mosquitto, the MQTT broker sensors publish to: persistent, with accounts in its dynamic-security plugin.

Plain MQTT listens on loopback for this machine's own services; devices elsewhere connect
over TLS (`VIGIA_MQTT_TLS_PORT`) with a certificate of a CA made on first start
(`ops/certificates.py`). Accounts are the plugin's: the sensor-admin account it is
initialised with, the bridge's and the simulator's (made on every `vigia up`), and one per
registered sensor (`vigia/dynsec.py`).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ops import certificates
from ops.component import (
    Component,
    Health,
    Program,
    StackError,
    give_to,
    prepare_daemon_home,
    service_user,
)
from vigia import dynsec


class Mosquitto(Component):
    name = "mosquitto"
    kind = "infra"
    start_timeout = 20.0

    @property
    def user(self) -> str | None:
        return service_user("mosquitto")

    @property
    def dynsec_file(self) -> Path:
        return self.home / "dynamic-security.json"

    def prepare(self) -> None:
        if not shutil.which("mosquitto_ctrl"):
            raise StackError("mosquitto is not installed; run `make install` first")
        s = self.settings
        prepare_daemon_home(s, self.home, self.user)
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        if not self.dynsec_file.exists():  # the accounts live here from now on: written once, kept
            admin = [s.mqtt_admin_username, s.mqtt_admin_password.get_secret_value()]
            _run(["mosquitto_ctrl", "dynsec", "init", str(self.dynsec_file), *admin])
        tls = ""
        if s.mqtt_tls_port:
            paths = certificates.ensure(self.home / "tls", hosts=certificates.names(s.bind_host))
            tls = (
                f"listener {s.mqtt_tls_port} {s.bind_host}\n"
                f"cafile {paths.ca}\ncertfile {paths.certificate}\nkeyfile {paths.key}\n"
                "tls_version tlsv1.2\n"
            )
        (self.home / "mosquitto.conf").write_text(
            "# Written by `vigia up`; edit the settings, not this file.\n"
            "per_listener_settings false\n"
            f"listener {s.mqtt_port} {s.mqtt_host}\n"  # plain MQTT: this machine's own services
            f"{tls}"  # devices elsewhere: TLS
            "allow_anonymous false\n"
            f"plugin {dynsec_plugin()}\n"
            f"plugin_opt_config_file {self.dynsec_file}\n"
            "persistence true\n"
            f"persistence_location {self.home / 'data'}/\n"
            "autosave_interval 10\n"
            # Persistent sessions hold what sensors sent while the bridge was away.
            "max_queued_messages 200000\n"
            "max_inflight_messages 5000\n"
            "message_size_limit 262144\n"
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            "log_timestamp_format %Y-%m-%dT%H:%M:%S\n"
        )
        give_to(self.user, self.home)

    def after_start(self) -> None:
        """The bridge's and the simulator's accounts, as the settings now say."""
        try:
            dynsec.run(self.settings, dynsec.service_commands(self.settings))
        except dynsec.DynsecError as error:
            raise StackError(f"Mosquitto's service accounts: {error}") from error

    def program(self) -> Program:
        return Program(
            command=[_binary(), "-c", str(self.home / "mosquitto.conf")],
            user=self.user,
            directory=self.home,  # the state directory may be closed to the mosquitto user
            stopwaitsecs=15,
        )

    def endpoint(self) -> str:
        return f"mqtt://{self.settings.mqtt_host}:{self.settings.mqtt_port}"

    def probe(self) -> Health:
        s = self.settings
        connected = threading.Event()
        outcome: list[str] = []

        def on_connect(client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
            outcome.append(str(reason))
            connected.set()

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vigia-probe", clean_session=True)
        client.username_pw_set(s.mqtt_admin_username, s.mqtt_admin_password.get_secret_value())
        client.on_connect = on_connect
        try:
            client.connect(s.mqtt_host, s.mqtt_port, keepalive=5)
        except OSError as exc:
            return Health(False, f"not accepting connections: {exc}")
        client.loop_start()
        try:
            if not connected.wait(5):
                return Health(False, "no CONNACK within 5 s")
        finally:
            client.disconnect()
            client.loop_stop()
        if outcome[0] != "Success":
            return Health(False, f"refused the sensor-admin account: {outcome[0]}")
        return Health(True, "accepts authenticated clients")

    def version(self) -> str | None:
        result = subprocess.run([_binary(), "-h"], capture_output=True, text=True, check=False)
        first = (result.stdout or result.stderr).splitlines()
        return first[0].removeprefix("mosquitto version ").strip() if first else None


def _binary() -> str:
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


PLUGIN_PLACES = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib", "/usr/local/lib")


def dynsec_plugin() -> Path:
    """Where this machine's Mosquitto keeps its dynamic-security plugin (Debian: the multiarch folder)."""
    for folder in PLUGIN_PLACES:
        found = Path(folder) / "mosquitto_dynamic_security.so"
        if found.exists():
            return found
    raise StackError("Mosquitto's dynamic-security plugin is missing; run `make install` first")


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")
