"""Log lines as JSON: the component, the ids a line concerns, and nothing personal or secret."""

from __future__ import annotations

import logging
import subprocess
import sys

import orjson

from ops.logs_cli import parse, render
from vigia import logs


def line(message: str, *args: object, **extra: object) -> dict[str, object]:
    record = logging.LogRecord("notify.notifier", logging.INFO, __file__, 1, message, args, None)
    for name, value in extra.items():
        setattr(record, name, value)
    parsed: dict[str, object] = orjson.loads(logs.JsonFormatter("notifier").format(record))
    return parsed


def test_a_line_is_one_json_object_with_its_component_and_the_ids_it_concerns() -> None:
    got = line("delivery %s failed", 42, alert_id="a1", sensor_id="sjl-water-07")
    assert (got["component"], got["level"], got["message"]) == ("notifier", "info", "delivery 42 failed")
    assert (got["alert_id"], got["sensor_id"]) == ("a1", "sjl-water-07")
    assert "tile_id" not in got
    token = logs.request_id.set("req-1")
    try:
        assert line("hello")["request_id"] == "req-1"
    finally:
        logs.request_id.reset(token)


def test_phone_numbers_are_masked_and_secret_values_blanked_whatever_the_message() -> None:
    got = line("reply from %s with password=hunter2 and token: abc123", "+51987654321")
    assert got["message"] == "reply from +51*****4321 with password=*** and token: ***"
    assert logs.scrub("offset 1733212345678 of 12 readings") == "offset 1733212345678 of 12 readings"


def test_an_exception_is_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), __import__("sys").exc_info())
    got = orjson.loads(logs.JsonFormatter("api").format(record))
    assert "ValueError: boom" in got["error"]


def test_vigia_logs_shows_a_json_line_as_one_readable_line_and_others_as_they_are() -> None:
    raw = orjson.dumps({"time": "2026-12-03T09:00:01.250+00:00", "level": "info", "component": "api",
                        "message": "ok", "request_id": "r1"}).decode()  # fmt: skip
    assert parse(raw) is not None
    assert render(raw, "api") == "09:00:01.250 info    api       ok  [request_id=r1]"
    assert parse("[2026-12-03 09:00:01,000] INFO kafka started") is None
    assert render("plain", "kafka").endswith("kafka     plain")


def test_a_library_that_brings_its_own_log_handler_still_writes_json_lines() -> None:
    """MLflow's client attaches a plain-text handler when imported; in a Vigía process its lines are JSON too."""
    script = (
        "import logging, mlflow\n"
        "from vigia import logs\n"
        "logs.setup('inference')\n"
        "logging.getLogger('mlflow.store.model_registry').info('routine note')\n"
        "logging.getLogger('mlflow.tracking').warning('registry slow')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    written = [orjson.loads(raw) for raw in done.stderr.splitlines()]
    assert [(w["component"], w["level"], w["message"]) for w in written] == [("inference", "warning", "registry slow")]
