"""Continuity evidence as the regulators count it: programmed cuts announced in time are listed, not counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.semester import semester_of
from tests.integration.helpers import api_headers, register
from tests.integration.test_api import base, open_alert, publish_dry_spell
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-cont"
LIMA = ZoneInfo("America/Lima")


def test_a_cut_announced_48_hours_ahead_stops_counting_and_water_is_given_in_hours_a_day(stack: Settings) -> None:
    register(stack, "it-cont-water", -12.1500, -76.9500, "water", ["water_pressure"], district=DISTRICT)
    dry_from = publish_dry_spell(stack, "it-cont-water", DISTRICT, dry_minutes=40)
    open_alert(stack, "it-cont-water")  # the windows are stored once the stream raised the alert
    operator = httpx.Client(base_url=base(stack), headers=api_headers(stack, "operator"), timeout=10)
    leader = api_headers(stack, "leader", district=DISTRICT)
    before = operator.get(f"/districts/{DISTRICT}/continuity").json()
    assert (before["water"]["count"], before["water"]["announced"]) == (1, 0)
    [day] = [d for d in before["water_supply"] if d["sensors"] == 1]
    assert day["hours"] == pytest.approx(5 / 60, abs=0.01)  # five minutes of water
    assert day["observed_hours"] == pytest.approx(45 / 60, abs=0.01)

    label = semester_of(dry_from, LIMA).label
    half = operator.get(f"/districts/{DISTRICT}/continuity/semester", params={"semester": label}).json()
    assert (half["semester"], half["water"]["count"], half["water"]["tolerance"]) == (label, 1, None)
    [point] = half["water"]["supply_points"]
    assert (point["sensor_id"], point["interruptions"], point["over_tolerance"]) == ("it-cont-water", 1, False)
    strict = {"interruptions": 0, "hours": 100}
    leader_put = httpx.put(f"{base(stack)}/districts/{DISTRICT}/tolerances/water", json=strict, headers=leader)
    assert leader_put.status_code == 403
    assert operator.put(f"/districts/{DISTRICT}/tolerances/water", json=strict).json()["set_by"]
    half = operator.get(f"/districts/{DISTRICT}/continuity/semester", params={"semester": label}).json()
    assert half["water"]["over_tolerance"] == 1
    assert half["water"]["supply_points"][0]["over_tolerance"] is True
    assert operator.get(f"/districts/{DISTRICT}/continuity/semester", params={"semester": "2026-3"}).status_code == 422

    cut = {
        "service": "water", "starts_at": (dry_from - timedelta(minutes=5)).isoformat(),
        "ends_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "announced_at": (dry_from - timedelta(days=3)).isoformat(), "note": "Mantenimiento del reservorio",
    }  # fmt: skip
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
    half = operator.get(f"/districts/{DISTRICT}/continuity/semester", params={"semester": label}).json()
    assert (half["water"]["count"], half["water"]["announced"], half["water"]["over_tolerance"]) == (0, 1, 0)

    report = operator.get(f"/districts/{DISTRICT}/report", params={"days": 1}).text
    assert "N ≤ 0 cortes y D ≤ 100 h por punto de suministro" in report
    assert "Programados y anunciados a tiempo" in report
