"""Who may do what: API keys with roles, and a community leader kept to their own district.

Roles, from the people the system serves:
- operator: everything, in every district.
- leader: a community leader; reads and acknowledges alerts, and manages alert
  subscriptions, in their own district only. Another district's data answers 404, as if it
  did not exist, so nothing leaks by probing.
- sensor-admin: installs sensors; reads and manages the sensor registry everywhere.
- viewer: reads status, maps, priorities and reports everywhere; changes nothing.

A key is `vg_<key id>_<secret>`; the database keeps the SHA-256 of the secret only. The
secret is 32 random bytes, so a plain hash suffices (no password stretching needed) and
is checked in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    LEADER = "leader"
    SENSOR_ADMIN = "sensor-admin"
    VIEWER = "viewer"


class Action(StrEnum):
    READ = "read"  # status, series, maps, alerts, priorities, reports
    ACKNOWLEDGE = "acknowledge"  # an alert, with a note
    RESOLVE = "resolve"  # an alert, by hand
    SUBSCRIBE = "subscribe"  # alert deliveries: webhooks, channels
    MANAGE_SENSORS = "manage-sensors"
    ASSESS = "assess"  # upload imagery to the model
    ANNOUNCE = "announce"  # record a programmed cut and when it was announced; set continuity tolerances
    LABEL = "label"  # say what a tile shows on the ground, for the model to learn from


GRANTS: dict[Role, frozenset[Action]] = {
    Role.OPERATOR: frozenset(Action),
    Role.LEADER: frozenset({Action.READ, Action.ACKNOWLEDGE, Action.SUBSCRIBE, Action.LABEL}),
    Role.SENSOR_ADMIN: frozenset({Action.READ, Action.MANAGE_SENSORS}),
    Role.VIEWER: frozenset({Action.READ}),
}


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    district: str | None  # a leader's district; None for the other roles
    name: str = ""

    def may(self, action: Action) -> bool:
        return action in GRANTS[self.role]

    def sees(self, district: str | None) -> bool:
        """Whether data of `district` exists for this principal (None: data of no one district)."""
        return self.role is not Role.LEADER or district is None or district == self.district

    def districts(self) -> list[str] | None:
        """The districts a query must be limited to; None means all."""
        return [self.district] if self.role is Role.LEADER and self.district else None


class BadKey(ValueError):
    """The presented key is not of the right shape (whether it exists is the database's to say)."""


def new_key() -> tuple[str, str, str]:
    """(key id, secret hash to store, the key to hand over once)."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return key_id, hash_secret(secret), f"vg_{key_id}_{secret}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str]:
    """(key id, secret) of a presented key."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "vg" or len(key_id) != 12 or not secret:
        raise BadKey("not a Vigía API key")
    return key_id, secret


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
