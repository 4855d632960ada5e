"""Bad callers against the running API: expired keys, SQL-looking values, paths reaching for files.

Each is refused with the right status and a reason, and nothing in the database changes.
"""

from __future__ import annotations

import http.client
from datetime import timedelta

import httpx
import psycopg
import pytest

from api import keys
from api.access import Role
from tests.integration.helpers import api_headers, query
from vigia.settings import Settings

pytestmark = pytest.mark.integration

TABLES = ("sensors", "alerts", "alert_events", "api_keys", "subscriptions", "deliveries", "readings")


def counts(stack: Settings) -> dict[str, int]:
    return {table: query(stack, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}  # noqa: S608  # fixed names


def test_an_expired_key_is_refused(stack: Settings) -> None:
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        _, expired = keys.add(conn, role=Role.OPERATOR, district=None, name="pilot", valid_for=timedelta(seconds=-1))
        _, current = keys.add(conn, role=Role.OPERATOR, district=None, name="pilot", valid_for=timedelta(hours=1))
    base = f"http://{stack.api_host}:{stack.api_port}"
    refused = httpx.get(f"{base}/districts", headers={"Authorization": f"Bearer {expired}"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "unknown, revoked or expired API key"
    assert httpx.get(f"{base}/districts", headers={"Authorization": f"Bearer {current}"}).status_code == 200


SQL_LOOKING = [
    ("/alerts", {"district": "x' OR '1'='1"}),
    ("/alerts", {"sensor_id": "a'; DROP TABLE alerts;--"}),
    ("/alerts", {"severity": "critical' OR 1=1--"}),
    ("/alerts", {"since": "2026-01-01'; DROP TABLE readings;--"}),
    ("/alerts", {"tile_id": "17/1/1 UNION SELECT secret_sha256 FROM api_keys"}),
    ("/sensors", {"district": "comas; DELETE FROM sensors"}),
    ("/priorities/tiles", {"district": "' UNION SELECT secret_sha256 FROM api_keys--"}),
    ("/sensors/x' OR 1=1--/latest", {}),
    ("/sensors/sjl-water-01/series", {"metric": "water_pressure; DROP TABLE readings_1m"}),
    ("/alerts/1 OR 1=1", {}),
    ("/districts/x'; DROP TABLE sensors;--/continuity", {}),
    ("/tiles/17/1 OR 1=1/1", {}),
]


def test_sql_looking_values_are_refused_and_change_nothing(stack: Settings) -> None:
    headers = api_headers(stack, "operator")
    before = counts(stack)
    client = httpx.Client(base_url=f"http://{stack.api_host}:{stack.api_port}", headers=headers, timeout=10)
    answers = {(path, str(params)): client.get(path, params=params) for path, params in SQL_LOOKING}
    assert {k: r.status_code for k, r in answers.items()} == {k: 422 for k in answers}
    for response in answers.values():
        detail = response.json()["detail"]
        assert isinstance(detail, str)
        assert "psycopg" not in detail
        assert "SELECT" not in detail
    assert counts(stack) == before


TRAVERSALS = [
    "/static/../../../../etc/passwd",
    "/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "/static/%2e%2e%2f%2e%2e%2fapi%2fapp.py",
    "/static/..%5c..%5capp.py",
    "/static/app.js%00.png",
    "/static/....//....//etc/passwd",
    "/static/%252e%252e%252fapp.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_reaching_for_files_find_nothing(stack: Settings, path: str) -> None:
    # http.client sends the path exactly as written; an HTTP library would tidy it first.
    connection = http.client.HTTPConnection(stack.api_host, stack.api_port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 404, (path, response.status)
    assert b"root:" not in body
    assert b"import" not in body
