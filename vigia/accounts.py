"""The broker's device accounts, as the API and the `vigia sensors` command see them.

Registering a sensor gives it an MQTT account that may publish to its own topic only;
revoking it takes the account away. How that is done depends on where the broker runs
(a password file and ACL beside a local Mosquitto, the broker's own account API
elsewhere), so registration names only this interface. An implementation is provided by
whatever deploys the broker, as an entry point of the group `vigia.broker_accounts`, and
chosen by `VIGIA_BROKER_ACCOUNTS`: the local stack provides `local`; `none` turns
registration off where accounts are managed by other means.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

from vigia.settings import Settings

ENTRY_POINTS = "vigia.broker_accounts"


class BrokerAccountsError(RuntimeError):
    """The broker could not be told; the registry was not changed for it either."""


class BrokerAccounts(Protocol):
    def grant(self, *, sensor_id: str, password: str, topic: str) -> None:
        """Let `sensor_id` connect with `password` and publish to `topic`, and nowhere else."""

    def revoke(self, *, sensor_id: str) -> None:
        """Refuse `sensor_id` from now on; a connected client is put off as soon as the broker allows."""


class NoBrokerAccounts:
    """Registration turned off (`VIGIA_BROKER_ACCOUNTS=none`): every change is refused with the reason."""

    def grant(self, *, sensor_id: str, password: str, topic: str) -> None:
        raise BrokerAccountsError(
            "this deployment manages the broker's accounts elsewhere (VIGIA_BROKER_ACCOUNTS=none)"
        )

    def revoke(self, *, sensor_id: str) -> None:
        raise BrokerAccountsError(
            "this deployment manages the broker's accounts elsewhere (VIGIA_BROKER_ACCOUNTS=none)"
        )


def load_accounts(settings: Settings) -> BrokerAccounts:
    """The implementation `VIGIA_BROKER_ACCOUNTS` names, made for these settings."""
    if settings.broker_accounts == "none":
        return NoBrokerAccounts()
    found = entry_points(group=ENTRY_POINTS, name=settings.broker_accounts)
    if not found:
        known = sorted({point.name for point in entry_points(group=ENTRY_POINTS)} | {"none"})
        raise BrokerAccountsError(f"VIGIA_BROKER_ACCOUNTS={settings.broker_accounts!r}: one of {', '.join(known)}")
    factory = next(iter(found)).load()
    accounts: BrokerAccounts = factory(settings)
    return accounts
