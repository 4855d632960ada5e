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
from datetime import datetime, timedelta

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
