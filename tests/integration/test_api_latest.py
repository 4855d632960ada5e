"""A sensor's latest readings when many are asked for at once: requests that arrive together share a query."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
import pytest

from api import repo
from tests.integration.helpers import api_headers, eventually, publish, query, register
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration

EAST, WEST = "it-latest-east", "it-latest-west"
SENSORS = {"it-latest-e1": EAST, "it-latest-e2": EAST, "it-latest-w1": WEST}
UNKNOWN = "it-latest-nonesuch"


@pytest.fixture(scope="module")
def reporting(stack: Settings) -> dict[str, str]:
    """Three sensors with readings stored, two of them in one district; one declares a metric it never sent."""
    at = datetime.now(UTC).replace(microsecond=0).timestamp() - 60
    for number, (sensor, district) in enumerate(SENSORS.items()):
        register(stack, sensor, -12.1 - number / 100, -77.0, "water", ["water_pressure", "tank_level"],
                 district=district)  # fmt: skip
        body = {"ts": at, "water_pressure": 1.0 + number} | ({"tank_level": 50.0} if number else {})
        publish(stack, sensor, json.dumps(body).encode(), district=district)
    stored = "SELECT count(*) FROM sensor_latest WHERE sensor_id = ANY(%(s)s) AND value IS NOT NULL"
    eventually(lambda: query(stack, stored, {"s": list(SENSORS)})[0][0] == 5, what="the sensors' latest readings")
    return SENSORS


def test_several_sensors_read_in_one_query_are_each_what_they_are_read_alone(
    stack: Settings, reporting: dict[str, str]
) -> None:
    async def read(ids: list[str]) -> dict[str, repo.Latest]:
        async with await psycopg.AsyncConnection.connect(stack.db_conninfo, autocommit=True) as conn:
            return await repo.latest_of(conn, ids)

    together = asyncio.run(read([*SENSORS, UNKNOWN]))
    alone = {sensor: asyncio.run(read([sensor]))[sensor] for sensor in SENSORS}
    assert together == alone
    head, readings, _ = together["it-latest-e1"]
    assert head["district"] == EAST
    assert [(r["metric"], r["value"]) for r in readings] == [("water_pressure", 1.0)]
    assert [r["metric"] for r in together["it-latest-e2"][1]] == ["tank_level", "water_pressure"]
    assert asyncio.run(read([UNKNOWN])) == {}


def test_latest_asked_for_many_sensors_at_once_answers_each_caller_its_own(
    stack: Settings, reporting: dict[str, str]
) -> None:
    callers = {"operator": api_headers(stack, "operator"), "east leader": api_headers(stack, "leader", EAST)}
    sensors = [*SENSORS, UNKNOWN]

    def answer(response: httpx.Response) -> tuple[int, Any]:
        return response.status_code, response.json()

    expected = {
        (who, sensor): answer(httpx.get(f"{base(stack)}/sensors/{sensor}/latest", headers=headers, timeout=10))
        for who, headers in callers.items()
        for sensor in sensors
    }

    async def together() -> list[tuple[str, str, tuple[int, Any]]]:
        asks = [(who, sensor) for _ in range(10) for who in callers for sensor in sensors]
        async with httpx.AsyncClient(base_url=base(stack), timeout=30) as client:
            responses = await asyncio.gather(
                *(client.get(f"/sensors/{sensor}/latest", headers=callers[who]) for who, sensor in asks)
            )
        return [(who, sensor, answer(response)) for (who, sensor), response in zip(asks, responses, strict=True)]

    got = asyncio.run(together())
    assert [(who, sensor, expected[who, sensor]) for who, sensor, _ in got] == got
    operator = {sensor: expected["operator", sensor][0] for sensor in sensors}
    assert operator == {"it-latest-e1": 200, "it-latest-e2": 200, "it-latest-w1": 200, UNKNOWN: 404}
    leader = {sensor: expected["east leader", sensor][0] for sensor in sensors}
    assert leader == {"it-latest-e1": 200, "it-latest-e2": 200, "it-latest-w1": 404, UNKNOWN: 404}
    assert expected["operator", "it-latest-w1"][1]["sensor_id"] == "it-latest-w1"
