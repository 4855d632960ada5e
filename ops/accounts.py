"""Sensor accounts on the local stack's Mosquitto: its password file and ACL, re-read on SIGHUP.

The `local` implementation of `vigia.accounts.BrokerAccounts`. The ACL is rewritten from
the registry on every change (the sensors it holds active, with the one being changed
added or taken out), so the broker and the registry cannot drift apart.
"""

from __future__ import annotations

import psycopg

from ops import control
from ops.component import StackError
from ops.mosquitto import MosquittoAccounts
from vigia import registry
from vigia.accounts import BrokerAccountsError
from vigia.settings import Settings
from vigia.topics import telemetry_topic


def sensor_acl(grants: dict[str, str]) -> str:
    """ACL lines letting each sensor (id to topic) publish to its own topic and nowhere else."""
    blocks = [f"user {sensor_id}\ntopic write {topic}\n" for sensor_id, topic in sorted(grants.items())]
    return "# Sensors: each may publish only its own telemetry.\n" + "\n".join(blocks)


class MosquittoFiles:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.files = MosquittoAccounts(settings)

    def grant(self, *, sensor_id: str, password: str, topic: str) -> None:
        try:
            self.files.set_password(sensor_id, password)
            self._apply({**self._registered(), sensor_id: topic})
        except (StackError, OSError, psycopg.Error) as error:
            raise BrokerAccountsError(str(error)) from error

    def revoke(self, *, sensor_id: str) -> None:
        try:
            if sensor_id in self.files.users():
                self.files.remove_user(sensor_id)
            self._apply({s: t for s, t in self._registered().items() if s != sensor_id})
        except (StackError, OSError, psycopg.Error) as error:
            raise BrokerAccountsError(str(error)) from error

    def _registered(self) -> dict[str, str]:
        with psycopg.connect(self.settings.db_conninfo, connect_timeout=5) as conn:
            active = registry.active_sensor_districts(conn)
        return {sensor_id: telemetry_topic(district, sensor_id) for sensor_id, district in active}

    def _apply(self, grants: dict[str, str]) -> None:
        self.files.write_acl(sensor_acl(grants))
        control.send_signal(self.settings, "mosquitto", "HUP")
