"""Delivery rules: who hears of what, reminders once per slot, retries that back off and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notify.delivery import MAX_ATTEMPTS, Interest, reminder_slot, retry_after, wants

NORTH_WARNINGS = Interest("north", "warning")


@pytest.mark.parametrize(
    ("district", "severity", "change", "expected"),
    [
        ("north", "critical", "opened", True),
        ("north", "warning", "resolved", True),
        ("north", "warning", "acknowledged", True),
        ("north", "info", "opened", False),  # below the subscription's minimum
        ("south", "critical", "opened", False),  # another district
        ("north", "critical", "reminder", False),  # reminders are made by the notifier, not heard from the stream
    ],
)
def test_a_subscription_hears_its_district_at_or_above_its_severity(
    district: str, severity: str, change: str, expected: bool
) -> None:
    assert wants(NORTH_WARNINGS, district=district, severity=severity, change=change) is expected


def test_retries_double_up_to_an_hour_and_then_stop() -> None:
    waits = [retry_after(n, jitter=0.0) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits[:4] == [timedelta(seconds=s) for s in (10, 20, 40, 80)]
    assert waits[MAX_ATTEMPTS - 1] is None
    assert all(w is not None and w <= timedelta(hours=1) for w in waits[:-1])
    assert retry_after(1, jitter=0.25) == timedelta(seconds=12.5)


def test_reminders_come_once_per_interval_after_opening() -> None:
    opened = datetime(2026, 2, 3, 19, 10, tzinfo=UTC)
    every = timedelta(minutes=30)
    assert reminder_slot(opened, opened + timedelta(minutes=29), every) == 0
    assert reminder_slot(opened, opened + timedelta(minutes=30), every) == 1
    assert reminder_slot(opened, opened + timedelta(minutes=59), every) == 1
    assert reminder_slot(opened, opened + timedelta(minutes=95), every) == 3
