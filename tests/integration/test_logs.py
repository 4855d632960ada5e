"""Every Vigía process writes JSON lines that say which process wrote them; the API's carry the request id."""

from __future__ import annotations

import httpx
import orjson
import pytest

from ops.logs_cli import SERVICES
from tests.integration.helpers import eventually
from tests.integration.test_api import base
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def lines(stack: Settings, component: str) -> list[str]:
    path = stack.log_dir / f"{component}.log"
    return [raw for raw in path.read_text(errors="replace").splitlines() if raw.strip()] if path.exists() else []


def test_every_line_of_every_vigia_process_is_json_with_its_component(stack: Settings) -> None:
    for component in SERVICES:
        written = lines(stack, component)
        assert written, f"{component} wrote nothing"
        for raw in written:
            try:
                line = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise AssertionError(f"{component} wrote a line that is not JSON: {raw!r}") from None
            assert line["component"] == component, raw
            assert {"time", "level", "message"} <= set(line), raw


def test_a_requests_id_is_answered_and_on_its_log_lines(stack: Settings) -> None:
    response = httpx.get(f"{base(stack)}/healthz", headers={"X-Request-ID": "it-logs-7f3a"})
    assert response.headers["X-Request-ID"] == "it-logs-7f3a"
    assert len(httpx.get(f"{base(stack)}/healthz", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"]) == 32

    def logged() -> list[dict[str, str]]:
        parsed = [orjson.loads(raw) for raw in lines(stack, "api")]
        return [line for line in parsed if line.get("request_id") == "it-logs-7f3a"]

    assert "GET /healthz" in eventually(logged, timeout=10, what="the request's log line")[0]["message"]
