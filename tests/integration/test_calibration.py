"""Calibration: set through the API, applied by the real bridge to a CBOR pack, both values stored."""

from __future__ import annotations

from datetime import UTC, datetime

import cbor2
import httpx
import pytest

from tests.integration.helpers import api_headers, eventually, publish, query, register
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def test_the_newest_calibration_corrects_what_the_sensor_sends_and_the_raw_value_is_kept(stack: Settings) -> None:
    sensor = "it-cal-01"
    register(stack, sensor, -11.981, -77.011, "water", ["water_pressure", "tank_level"])
    operator = httpx.Client(base_url=base(stack), headers=api_headers(stack, "operator"), timeout=30)
    url = f"/sensors/{sensor}/calibrations"
    first = operator.put(f"{url}/water_pressure", json={"gain": 1.5, "offset": 0.0})
    second = operator.put(f"{url}/water_pressure", json={"gain": 1.1, "offset": -0.05, "note": "patrón 2026-12"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["version"] == 2
    assert second.json()["set_by"] == "test operator"
    history = operator.get(url).json()
    assert [(c["metric"], c["version"], c["gain"]) for c in history] == [
        ("water_pressure", 2, 1.1),
        ("water_pressure", 1, 1.5),
    ]
    refused = operator.put(f"{url}/mains_voltage", json={"gain": 1.0, "offset": 2.0})
    assert refused.status_code == 422
    assert "does not report mains_voltage" in refused.json()["detail"]
    assert operator.put(f"{url}/water_pressure", json={"gain": 0, "offset": 0}).status_code == 422
    viewer = api_headers(stack, "viewer")
    assert httpx.put(f"{base(stack)}{url}/tank_level", json={"gain": 1.0}, headers=viewer).status_code == 403

    at = datetime.now(UTC).replace(microsecond=0).timestamp() - 30
    pack = cbor2.dumps([{-3: at, 0: "water_pressure", 2: 1.0}, {0: "tank_level", 2: 40.0}])  # RFC 8428 labels
    publish(stack, sensor, pack)
    rows = eventually(
        lambda: (
            query(
                stack,
                "SELECT metric, value, raw_value, calibration FROM readings WHERE sensor_id = %(s)s ORDER BY metric",
                {"s": sensor},
            )
            or None
        ),
        what="the calibrated readings",
    )
    assert rows[0] == ("tank_level", 40.0, None, None)  # no calibration: the value is the raw one
    metric, value, raw, version = rows[1]
    assert (metric, raw, version) == ("water_pressure", 1.0, 2)
    assert value == pytest.approx(1.05)
    latest = operator.get(f"/sensors/{sensor}/latest").json()["readings"]
    assert {r["metric"]: r["raw_value"] for r in latest} == {"tank_level": None, "water_pressure": 1.0}
