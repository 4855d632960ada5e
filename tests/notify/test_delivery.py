"""Delivery rules: who hears of what, reminders once per slot, retries that back off and end."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from notify.delivery import (
    MAX_ATTEMPTS,
    Defer,
    Due,
    Hold,
    Interest,
    Send,
    Skip,
    decide,
    quiet_end,
    reminder_slot,
    retry_after,
    wants,
)
from notify.messages import LIMA

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


# When a due delivery still goes: escalation, quiet hours and the hourly limit.

NOON_LIMA = datetime(2026, 2, 3, 17, 0, tzinfo=UTC)
NIGHT_LIMA = datetime(2026, 2, 4, 4, 0, tzinfo=UTC)  # 23:00 in Lima


def due(**changes: object) -> Due:
    fields: dict[str, object] = {
        "change": "opened", "severity": "warning", "alert_state": "open", "wait_minutes": 0,
        "told_of_opening": False, "quiet": None, "sent_last_hour": 0, "max_per_hour": 10,
    }  # fmt: skip
    fields.update(changes)
    return Due(**fields)  # type: ignore[arg-type]


def test_the_first_step_is_told_even_if_someone_already_acknowledged() -> None:
    assert decide(due(alert_state="acknowledged"), NOON_LIMA) == Send()


def test_a_later_step_is_skipped_once_someone_acknowledged_and_hears_nothing_more() -> None:
    assert isinstance(decide(due(wait_minutes=15, alert_state="acknowledged"), NOON_LIMA), Skip)
    assert decide(due(wait_minutes=15), NOON_LIMA) == Send()
    assert isinstance(decide(due(wait_minutes=15, change="resolved", alert_state="resolved"), NOON_LIMA), Skip)
    told = due(wait_minutes=15, change="resolved", alert_state="resolved", told_of_opening=True)
    assert decide(told, NOON_LIMA) == Send()


def test_reminders_and_updates_of_an_acknowledged_alert_are_not_sent() -> None:
    assert isinstance(decide(due(change="reminder", alert_state="acknowledged"), NOON_LIMA), Skip)
    assert isinstance(decide(due(change="updated", alert_state="acknowledged"), NOON_LIMA), Skip)


def test_quiet_hours_hold_non_critical_messages_until_morning_but_never_critical_ones() -> None:
    quiet = (time(22, 0), time(6, 0))
    waited = decide(due(quiet=quiet), NIGHT_LIMA)
    assert waited == Defer(datetime(2026, 2, 4, 6, 0, tzinfo=LIMA))
    assert decide(due(quiet=quiet, severity="critical"), NIGHT_LIMA) == Send()
    assert decide(due(quiet=quiet), NOON_LIMA) == Send()
    assert quiet_end((time(1, 0), time(5, 0)), NIGHT_LIMA) is None


def test_a_still_going_message_overtaken_by_a_newer_one_is_not_sent() -> None:
    assert isinstance(decide(due(change="updated", superseded=True), NOON_LIMA), Skip)
    assert isinstance(decide(due(change="reminder", superseded=True), NOON_LIMA), Skip)
    assert decide(due(change="opened", superseded=True), NOON_LIMA) == Send()
    assert decide(due(change="updated"), NOON_LIMA) == Send()


def test_past_the_hourly_limit_messages_are_held_for_a_digest() -> None:
    assert decide(due(sent_last_hour=9), NOON_LIMA) == Send()
    assert decide(due(sent_last_hour=10), NOON_LIMA) == Hold()
    assert decide(due(sent_last_hour=10, severity="critical", change="reminder"), NOON_LIMA) == Hold()
    assert decide(due(sent_last_hour=10, severity="critical"), NOON_LIMA) == Send()
