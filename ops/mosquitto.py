"""Mosquitto, the MQTT broker sensors publish to: persistent, authenticated, one listener."""

from __future__ import annotations

import shutil
import subprocess
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ops.component import (
    Component,
    Health,
    Program,
    StackError,
    give_to,
    prepare_daemon_home,
    service_user,
)
from vigia.settings import Settings


class Mosquitto(Component):
    name = "mosquitto"
    kind = "infra"
    start_timeout = 20.0

    @property
    def user(self) -> str | None:
        return service_user("mosquitto")

    def prepare(self) -> None:
        if not shutil.which("mosquitto_passwd"):
            raise StackError("mosquitto is not installed; run `make install` first")
        s = self.settings
        prepare_daemon_home(s, self.home, self.user)
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        accounts = MosquittoAccounts(s)
        passwd = accounts.passwd
        accounts.set_password(s.mqtt_username, s.mqtt_password.get_secret_value())
        accounts.set_password(s.mqtt_simulator_username, s.mqtt_simulator_password.get_secret_value())
        accounts.write_acl()
        (self.home / "mosquitto.conf").write_text(
            "# Written by `vigia up`; edit the settings, not this file.\n"
            "per_listener_settings false\n"
            f"listener {s.mqtt_port} {s.mqtt_host}\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            f"acl_file {self.home / 'acl'}\n"
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
        client.username_pw_set(s.mqtt_username, s.mqtt_password.get_secret_value())
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
            return Health(False, f"refused the bridge's credentials: {outcome[0]}")
        return Health(True, "accepts authenticated clients")

    def version(self) -> str | None:
        result = subprocess.run([_binary(), "-h"], capture_output=True, text=True, check=False)
        first = (result.stdout or result.stderr).splitlines()
        return first[0].removeprefix("mosquitto version ").strip() if first else None


def _binary() -> str:
    return shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class MosquittoAccounts:
    """Mosquitto's password and ACL files: the service accounts plus one account per sensor.

    Sensor accounts persist across `vigia up` (only `down --purge` deletes them); their ACL
    lines live in `acl.sensors`, rewritten by `vigia sensors`, and are appended to the
    service accounts' lines. Mosquitto re-reads both files on SIGHUP.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.home = Mosquitto(settings).home
        self.passwd = self.home / "passwd"
        self.acl = self.home / "acl"
        self.sensor_acl = self.home / "acl.sensors"

    def _passwd(self, *args: str) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if not self.passwd.exists():
            self.passwd.touch(mode=0o600)
        result = subprocess.run(["mosquitto_passwd", *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"mosquitto_passwd failed: {result.stderr.strip() or result.stdout.strip()}")
        give_to(service_user("mosquitto"), self.passwd)

    def set_password(self, user: str, secret: str) -> None:
        self._passwd("-b", str(self.passwd), user, secret)

    def users(self) -> set[str]:
        """The accounts in the password file (one `user:hash` line each)."""
        if not self.passwd.exists():
            return set()
        return {line.split(":", 1)[0] for line in self.passwd.read_text().splitlines() if ":" in line}

    def remove_user(self, user: str) -> None:
        self._passwd("-D", str(self.passwd), user)

    def write_acl(self, sensor_lines: str | None = None) -> None:
        s = self.settings
        if sensor_lines is not None:
            self.sensor_acl.write_text(sensor_lines)
        sensors = self.sensor_acl.read_text() if self.sensor_acl.exists() else ""
        self.acl.write_text(
            "# Written by vigia; edit the registry with `vigia sensors`, not this file.\n"
            "# The bridge reads every sensor topic; the simulator (a test gateway) writes them.\n"
            f"user {s.mqtt_username}\ntopic read vigia/#\n\n"
            f"user {s.mqtt_simulator_username}\ntopic write vigia/#\n\n"
            f"{sensors}"
        )
        give_to(service_user("mosquitto"), self.acl)
