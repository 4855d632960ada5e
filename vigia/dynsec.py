"""Device accounts in Mosquitto's dynamic-security plugin, changed through its `$CONTROL` topic.

The same on the local stack, in docker-compose and in Kubernetes: the broker keeps clients,
roles and ACLs in its own file and applies a change at once, so registering a sensor needs
no file on the broker's disk and no signal to its process. The sensor-admin account (the
plugin's admin role) sends JSON commands to `$CONTROL/dynamic-security/v1` and reads the
answers on `.../response`, in order.

- A sensor is a client named by its id with a role of its own, `sensor-<id>`, that may
  publish to its own telemetry topic and nothing else. Registering again replaces both, so
  the old password stops working and a connected device is put off; revoking deletes them,
  which disconnects the device at once.
- The bridge may read `vigia/#`; the simulator may publish only in the simulated districts.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from vigia.accounts import BrokerAccountsError
from vigia.settings import Settings

TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSES = f"{TOPIC}/response"
ANY_DISTRICT = "*"


class DynsecError(BrokerAccountsError):
    """The broker refused a command, or did not answer; the message says which and why."""


@dataclass(frozen=True)
class Command:
    body: dict[str, Any]
    may_fail: bool = False  # deleting what is not there, creating what already is


def sensor_role(sensor_id: str) -> str:
    return f"sensor-{sensor_id}"


def _acl(acltype: str, topic: str) -> dict[str, Any]:
    return {"acltype": acltype, "topic": topic, "allow": True, "priority": 0}


def grant_commands(sensor_id: str, password: str, topic: str) -> list[Command]:
    """A sensor's own role and client, made afresh."""
    role = sensor_role(sensor_id)
    return [
        Command({"command": "deleteClient", "username": sensor_id}, may_fail=True),
        Command({"command": "deleteRole", "rolename": role}, may_fail=True),
        Command({"command": "createRole", "rolename": role, "acls": [_acl("publishClientSend", topic)]}),
        Command(
            {
                "command": "createClient",
                "username": sensor_id,
                "password": password,
                "roles": [{"rolename": role, "priority": 0}],
            }
        ),
    ]


def revoke_commands(sensor_id: str) -> list[Command]:
    return [
        Command({"command": "deleteClient", "username": sensor_id}, may_fail=True),
        Command({"command": "deleteRole", "rolename": sensor_role(sensor_id)}, may_fail=True),
    ]


def _service(username: str, password: str, acls: list[dict[str, Any]]) -> list[Command]:
    """A service account with a role of its own name, rebuilt (its ACLs may have changed), and its client
    kept, so a running service keeps its session."""
    role = username
    return [
        Command({"command": "deleteRole", "rolename": role}, may_fail=True),
        Command({"command": "createRole", "rolename": role, "acls": acls}),
        Command({"command": "createClient", "username": username, "password": password}, may_fail=True),
        Command({"command": "setClientPassword", "username": username, "password": password}),
        Command({"command": "addClientRole", "username": username, "rolename": role, "priority": 0}, may_fail=True),
    ]


def simulator_topics(districts: Sequence[str]) -> list[str]:
    if ANY_DISTRICT in districts:
        return ["vigia/#"]
    return [f"vigia/{district}/#" for district in districts]


def bridge_commands(settings: Settings) -> list[Command]:
    # Several bridges share one subscription ($share/<group>/vigia/#), which the broker checks as written.
    acls = [
        _acl(kind, topic)
        for kind in ("subscribePattern", "unsubscribePattern")
        for topic in ("vigia/#", "$share/+/vigia/#")
    ]
    return _service(settings.mqtt_username, settings.mqtt_password.get_secret_value(), acls)


def simulator_commands(settings: Settings) -> list[Command]:
    acls = [_acl("publishClientSend", topic) for topic in simulator_topics(settings.mqtt_simulator_districts)]
    password = settings.mqtt_simulator_password.get_secret_value()
    return _service(settings.mqtt_simulator_username, password, acls)


def service_commands(settings: Settings) -> list[Command]:
    """The bridge's and the simulator's accounts, as the settings say."""
    return [*bridge_commands(settings), *simulator_commands(settings)]


def errors_of(commands: Sequence[Command], responses: Sequence[dict[str, Any]]) -> list[str]:
    """The refusals that matter: those of commands not allowed to fail."""
    found = []
    for command, response in zip(commands, responses, strict=False):
        error = response.get("error")
        if error and not command.may_fail:
            found.append(f"{command.body['command']}: {error}")
    if len(responses) < len(commands):
        found.append(f"the broker answered {len(responses)} of {len(commands)} commands")
    return found


def client(settings: Settings, client_id: str) -> mqtt.Client:
    """An MQTT client for the admin account, over TLS when the settings name a CA."""
    made = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    made.username_pw_set(settings.mqtt_admin_username, settings.mqtt_admin_password.get_secret_value())
    if settings.mqtt_ca_file is not None:
        made.tls_set(ca_certs=str(settings.mqtt_ca_file), cert_reqs=ssl.CERT_REQUIRED)
    return made


def run(settings: Settings, commands: Sequence[Command], timeout: float = 10.0) -> list[dict[str, Any]]:
    """Send the commands in one request and wait for the broker's answers; DynsecError if one that
    must succeed did not."""
    answered = threading.Event()
    connected = threading.Event()
    responses: list[dict[str, Any]] = []
    refused: list[str] = []

    def on_connect(c: mqtt.Client, userdata: object, flags: object, reason: Any, props: object) -> None:
        if reason != 0 and str(reason) != "Success":
            refused.append(str(reason))
            connected.set()
            return
        c.subscribe(RESPONSES, qos=1)

    def on_subscribe(c: mqtt.Client, userdata: object, mid: int, reasons: object, props: object) -> None:
        connected.set()

    def on_message(c: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        responses.extend(orjson.loads(message.payload).get("responses", []))
        answered.set()

    admin = client(settings, f"vigia-dynsec-{threading.get_ident()}")
    admin.on_connect, admin.on_subscribe, admin.on_message = on_connect, on_subscribe, on_message
    try:
        admin.connect(settings.mqtt_host, settings.mqtt_port, keepalive=10)
    except OSError as error:
        where = f"{settings.mqtt_host}:{settings.mqtt_port}"
        raise DynsecError(f"the MQTT broker at {where} is unreachable: {error}") from error
    admin.loop_start()
    try:
        if not connected.wait(timeout) or refused:
            raise DynsecError(f"the broker refused the sensor-admin account: {refused[0] if refused else 'timeout'}")
        payload = orjson.dumps({"commands": [command.body for command in commands]})
        admin.publish(TOPIC, payload, qos=1)
        if not answered.wait(timeout):
            raise DynsecError("the broker did not answer the dynamic-security commands")
    finally:
        admin.disconnect()
        admin.loop_stop()
    if errors := errors_of(commands, responses):
        raise DynsecError("; ".join(errors))
    return responses


class DynamicSecurity:
    """`vigia.accounts.BrokerAccounts` through the dynamic-security plugin (`VIGIA_BROKER_ACCOUNTS=dynsec`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def grant(self, *, sensor_id: str, password: str, topic: str) -> None:
        run(self.settings, grant_commands(sensor_id, password, topic))

    def revoke(self, *, sensor_id: str) -> None:
        run(self.settings, revoke_commands(sensor_id))
