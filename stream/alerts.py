"""Alert lifecycle: one open alert per sensor and rule, updated while it fires, resolved when clear.

Pure bookkeeping over `Condition`s. An alert opens when its rule fires, dated from when the
condition began; firing again updates it (a change is emitted when its severity changes,
and at most every `update_every` seconds otherwise, so a long outage does not flood
leaders' phones); it resolves itself once the condition has been clear for the rule's
`clear_minutes`, dated from when it cleared. The alert id is derived from sensor, rule and
opening time, so a replay after a crash produces the same alert, not a second one.

A person may resolve an alert by hand while its condition lasts. The book then keeps
following the condition in silence: no update and no second resolution is emitted, and
only once the condition has cleared and begins again does a new alert open.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from enum import Enum

from stream.conditions import Condition, State
from vigia.contracts import Severity


class Change(Enum):
    OPENED = "opened"
    UPDATED = "updated"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class OpenAlert:
    alert_id: str
    rule_id: str
    sensor_id: str
    metric: str | None
    severity: Severity
    opened_at: float  # when the condition began
    updated_at: float  # event time of the latest firing observation
    value: float | None
    detail: str
    clear_since: float | None = None
    announced_at: float = 0.0  # event time of the last change emitted
    resolved_by_hand: bool = False  # followed until its condition clears, announced no more


@dataclass(frozen=True)
class AlertChange:
    change: Change
    alert: OpenAlert
    at: float  # opened: when the condition began; updated: the observation; resolved: when it cleared


def alert_id(sensor_id: str, rule_id: str, opened_at: float) -> str:
    digest = hashlib.blake2b(f"{sensor_id}|{rule_id}|{opened_at:.3f}".encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest))


OpenAlerts = dict[tuple[str, str], OpenAlert]
"""Open alerts by (sensor, rule)."""


class AlertBook:
    def __init__(self, update_every: float = 300.0) -> None:
        self.open: OpenAlerts = {}
        self.update_every = update_every

    def restore(self, alerts: list[OpenAlert]) -> None:
        """Open alerts from the database, after a restart."""
        for alert in alerts:
            self.open[(alert.sensor_id, alert.rule_id)] = alert

    def snapshot(self) -> OpenAlerts:
        """The open alerts as they stand, to put back if what follows does not become durable."""
        return dict(self.open)

    def put_back(self, snapshot: OpenAlerts) -> None:
        self.open = dict(snapshot)

    def resume(self, sensor_id: str, rule_id: str, condition: Condition) -> None:
        """Follow a restored alert's condition through stored readings without announcing or
        resolving anything: only whether, and since when, it has been clear."""
        current = self.open.get((sensor_id, rule_id))
        if current is None:
            return
        if condition.state is State.CLEAR:
            if current.clear_since is None:
                self.open[(sensor_id, rule_id)] = replace(current, clear_since=condition.at)
        elif current.clear_since is not None:
            self.open[(sensor_id, rule_id)] = replace(current, clear_since=None)

    def forget(self, sensors: set[str]) -> None:
        """Drop these sensors' alerts from memory (their partitions moved to another worker)."""
        self.open = {key: alert for key, alert in self.open.items() if key[0] not in sensors}

    def resolved_by_hand(self, alert_ids: set[str]) -> None:
        """These alerts were resolved by a person: follow their conditions, announce nothing more."""
        for key, alert in list(self.open.items()):
            if alert.alert_id in alert_ids and not alert.resolved_by_hand:
                self.open[key] = replace(alert, resolved_by_hand=True)

    def apply(
        self,
        *,
        rule_id: str,
        sensor_id: str,
        metric: str | None,
        condition: Condition,
        severity: Severity,
        clear_seconds: float,
    ) -> AlertChange | None:
        key = (sensor_id, rule_id)
        current = self.open.get(key)
        if condition.state is State.FIRING:
            if current is None:
                opened_at = condition.since if condition.since is not None else condition.at
                alert = OpenAlert(
                    alert_id=alert_id(sensor_id, rule_id, opened_at),
                    rule_id=rule_id,
                    sensor_id=sensor_id,
                    metric=metric,
                    severity=severity,
                    opened_at=opened_at,
                    updated_at=condition.at,
                    value=condition.value,
                    detail=condition.detail,
                    announced_at=condition.at,
                )
                self.open[key] = alert
                return AlertChange(Change.OPENED, alert, opened_at)
            updated = replace(
                current,
                severity=severity,
                updated_at=max(current.updated_at, condition.at),
                value=condition.value,
                detail=condition.detail,
                clear_since=None,
            )
            if current.resolved_by_hand:
                self.open[key] = updated
                return None
            if severity != current.severity or condition.at - current.announced_at >= self.update_every:
                updated = replace(updated, announced_at=condition.at)
                self.open[key] = updated
                return AlertChange(Change.UPDATED, updated, condition.at)
            self.open[key] = updated
            return None
        if current is None:
            return None
        if condition.state is State.HOLDING:
            if current.clear_since is not None:
                self.open[key] = replace(current, clear_since=None)
            return None
        clear_since = current.clear_since if current.clear_since is not None else condition.at
        if condition.at - clear_since >= clear_seconds:
            del self.open[key]
            if current.resolved_by_hand:
                return None
            return AlertChange(Change.RESOLVED, replace(current, clear_since=clear_since), clear_since)
        if current.clear_since is None:
            self.open[key] = replace(current, clear_since=clear_since)
        return None
