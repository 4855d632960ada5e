"""Continuity evidence as the regulators count it: programmed cuts announced in time are listed, not counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.integration.helpers import api_headers, register
from tests.integration.test_api import base, open_alert, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-cont"


def test_a_cut_announced_48_hours_ahead_stops_counting_and_water_is_given_in_hours_a_day(stack: Settings) -> None:
    register(stack, "it-cont-water", -12.1500, -76.9500, "water", ["water_pressure"], district=DISTRICT)
    dry_from = publish_dry_spell(stack, "it-cont-water", DISTRICT, dry_minutes=40)
    open_alert(stack, "it-cont-water")  # the windows are stored once the stream raised the alert
    operator = httpx.Client(base_url=base(stack), headers=api_headers(stack, "operator"), timeout=10)
    before = operator.get(f"/districts/{DISTRICT}/continuity").json()
    assert (before["water"]["count"], before["water"]["announced"]) == (1, 0)
    [day] = [d for d in before["water_supply"] if d["sensors"] == 1]
    assert day["hours"] == pytest.approx(5 / 60, abs=0.01)  # five minutes of water
    assert day["observed_hours"] == pytest.approx(45 / 60, abs=0.01)

    cut = {
        "service": "water", "starts_at": (dry_from - timedelta(minutes=5)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "announced_at": (dry_from - timedelta(days=3)).isoformat(), "note": "Mantenimiento del reservorio",
    }  # fmt: skip
    leader = api_headers(stack, "leader", district=DISTRICT)
    assert httpx.post(f"{base(stack)}/districts/{DISTRICT}/cuts", json=cut, headers=leader).status_code == 403
    late = {**cut, "announced_at": (dry_from + timedelta(minutes=1)).isoformat()}
    assert operator.post(f"/districts/{DISTRICT}/cuts", json=late).status_code == 422
    recorded = operator.post(f"/districts/{DISTRICT}/cuts", json=cut)
    assert recorded.status_code == 201, recorded.text

    after = operator.get(f"/districts/{DISTRICT}/continuity").json()
    assert (after["water"]["count"], after["water"]["announced"]) == (0, 1)
    [span] = after["water"]["interruptions"]
    assert span["announced"] is True
    assert after["cuts"][0]["note"] == "Mantenimiento del reservorio"
