"""Who hears of an alert change, and when a failed delivery is tried again. Pure rules, no I/O.

- A subscription hears of alerts in its district at or above its minimum severity: the
  opening, acknowledgement, resolution, and the stream's periodic "still going" updates.
- A critical alert nobody has acknowledged is recalled every `every` minutes after it
  opened. Each reminder has a slot number, so asking twice in one slot sends nothing twice.
- A failed delivery is tried again after 10 s, 20 s, 40 s ... up to an hour, with jitter
  so a receiver that was down is not hit by every retry at once; after eight attempts
  (about 40 minutes of trying) it is marked failed and stays in the log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from notify.messages import LIMA

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
NOTIFIED_CHANGES = frozenset({"opened", "updated", "acknowledged", "resolved", "withdrawn"})
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class Interest:
    district: str
    min_severity: str


def wants(interest: Interest, *, district: str, severity: str, change: str) -> bool:
    return (
        change in NOTIFIED_CHANGES
        and district == interest.district
        and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[interest.min_severity]
    )


def retry_after(attempts: int, *, jitter: float | None = None) -> timedelta | None:
    """How long to wait after `attempts` failed attempts; None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = min(LONGEST_RETRY, FIRST_RETRY * (1 << max(0, attempts - 1)))
    share = random.uniform(0.0, 0.25) if jitter is None else jitter  # noqa: S311  # spreading retries, not secrets
    return base * (1 + share)


def reminder_slot(opened_at: datetime, now: datetime, every: timedelta) -> int:
    """0 before the first reminder is due; then 1, 2, ... one per `every` since the alert opened."""
    return max(0, int((now - opened_at) / every))


@dataclass(frozen=True)
class Due:
    """A delivery due now, with what deciding its fate needs to know."""

    change: str
    severity: str
    alert_state: str
    wait_minutes: int
    told_of_opening: bool
    quiet: tuple[time, time] | None
    sent_last_hour: int
    max_per_hour: int
    superseded: bool = False  # a newer message about the same alert is owed to the same subscriber


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Defer:
    until: datetime


@dataclass(frozen=True)
class Hold:
    """Over the hourly limit: kept for the next digest."""


Decision = Send | Skip | Defer | Hold
STILL_NEEDED = {"opened": {"open"}, "reminder": {"open"}, "updated": {"open"}}


def decide(due: Due, now: datetime) -> Decision:
    """Whether a due delivery goes now, waits, joins a digest, or is not sent at all.

    - An escalation step (wait_minutes > 0) is skipped once someone acknowledged; its
      subscriber hears of later changes only if they were told of the opening.
    - A reminder or a "still going" update of an alert someone acknowledged is not sent, nor
      one a newer message about the same alert has overtaken (a notifier catching up).
    - Non-critical messages wait out the subscriber's quiet hours (Lima clock).
    - Past `max_per_hour` messages in the last hour, the rest are held for one digest; the
      opening of a critical alert is never held, since a digest may be an hour away.
    """
    if due.superseded and due.change in {"updated", "reminder"}:
        return Skip("a newer message about this alert is owed")
    needed = STILL_NEEDED.get(due.change)
    if needed is not None and due.alert_state not in needed and (due.change != "opened" or due.wait_minutes):
        return Skip(f"alert already {due.alert_state}")
    if due.change not in {"opened", "reminder"} and due.wait_minutes and not due.told_of_opening:
        return Skip("not told of the opening: an earlier step of the chain acknowledged it")
    if due.quiet is not None and due.severity != "critical":
        until = quiet_end(due.quiet, now)
        if until is not None:
            return Defer(until)
    if due.sent_last_hour >= due.max_per_hour and not (due.severity == "critical" and due.change == "opened"):
        return Hold()
    return Send()


def quiet_end(quiet: tuple[time, time], now: datetime) -> datetime | None:
    """When the quiet hours `now` falls in end (Lima clock), or None outside them.
    A span that crosses midnight (22:00 to 06:00) is the usual case."""
    start, end = quiet
    local = now.astimezone(LIMA)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start <= end else clock >= start or clock < end
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=LIMA)
    if ends <= local:
        ends += timedelta(days=1)
    return ends
