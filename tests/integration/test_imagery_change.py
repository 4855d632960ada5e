"""A tile imaged again with different ground opens a change alert of its own, seen through the API."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from inference import intake
from inference.tiling import ImageTile
from tests.integration.helpers import api_headers, eventually, query
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration
DISTRICT = "it-change"
X, Y = 150200, 279900  # zoom 19, inside block 17/37550/69975


def ingest(stack: Settings, name: str, when: datetime, x: int = X) -> None:
    data = (stack.imagery_dir / "ucmerced" / name / f"{name}33.jpg").read_bytes()
    tile = ImageTile(tile_id=f"19/{x}/{Y}", source=f"{name}.jpg", captured_at=when, data=data)
    asyncio.run(intake.queue_tiles(stack, [tile], district=DISTRICT))
    sql = "SELECT 1 FROM tile_assessments WHERE tile_id = %(t)s AND time = %(w)s"
    eventually(lambda: query(stack, sql, {"t": f"19/{x}/{Y}", "w": when}) or None, what=f"{name} assessed")


def test_new_houses_on_a_wooded_tile_open_a_change_alert_and_the_same_ground_again_does_not(stack: Settings) -> None:
    first, second, third = (datetime(2026, m, 1, 15, tzinfo=UTC) for m in (2, 6, 8))
    ingest(stack, "forest", first)
    ingest(stack, "denseresidential", second)
    viewer = httpx.Client(base_url=base(stack), headers=api_headers(stack, "viewer"), timeout=30)

    def change_alerts() -> list[dict[str, str]] | None:
        found = viewer.get("/alerts", params={"district": DISTRICT}).json()
        return [a for a in found if a["rule"] == "imagery-change"] or None

    [alert] = eventually(change_alerts, what="a change alert")
    assert alert["tile_id"] == f"17/{X // 4}/{Y // 4}"  # raised on the block, as people name places
    assert alert["sensor_id"] == "imagery"
    assert alert["title_en"] == "New construction seen from the air"
    assert alert["detail"].startswith(f"19/{X}/{Y}: 2026-02-01 -> 2026-06-01; forest -> ")
    assert alert["land_use_class"].endswith("residential")  # what it is now
    assert datetime.fromisoformat(alert["window_start"]) == first
    assert datetime.fromisoformat(alert["window_end"]) == second

    changes = viewer.get(f"/tiles/17/{X // 4}/{Y // 4}/changes").json()
    [change] = changes
    assert (change["kind"], change["significant"], change["alert_id"]) == ("construction", True, alert["alert_id"])
    assert change["distance"] > 0.35
    assert change["housing_delta"] >= 0.2  # woodland to housing

    ingest(stack, "denseresidential", third)  # the same houses seen again: compared, not alerted
    changes = viewer.get(f"/tiles/19/{X}/{Y}/changes").json()
    assert [c["significant"] for c in changes] == [False, True]  # newest first
    assert len(change_alerts() or []) == 1
    outbox = "SELECT count(*) FROM alert_events e JOIN alerts a USING (alert_id) WHERE a.rule = 'imagery-change'"
    assert query(stack, outbox)[0][0] == 1  # its opening is on its way to the alerts topic and the notifier
