"""Logs as JSON lines, one object per line, the same from every Vigía process.

A collector (Promtail, Vector, the cluster's own) reads them without a parser of ours; a
person reads them through `vigia logs`. Each line carries its component and, where a log
call names them (`log.info(..., extra={"sensor_id": ...})`, or the API's request id), the
sensor, tile, alert and request it concerns. Phone numbers are masked and `password=`,
`token=` and `secret=` values blanked before a line is written, whatever the message
held: the standard library's logging with a formatter of ours, no new dependency.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")  # through the root's handler, as JSON
CONTEXT_FIELDS = ("sensor_id", "tile_id", "alert_id", "delivery_id", "request_id")
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_PHONE = re.compile(r"\+(\d{2})\d{5,10}(\d{4})(?!\d)")  # E.164, as Vigía stores numbers
_SECRET = re.compile(r"(?i)\b(password|passwd|token|secret|api_key)(\"?\s*[=:]\s*\"?)[^\s&\",}]+")


def scrub(text: str) -> str:
    """The text with phone numbers masked and secret values blanked."""
    text = _SECRET.sub(lambda m: f"{m[1]}{m[2]}***", text)
    return _PHONE.sub(lambda m: f"+{m[1]}*****{m[2]}", text)


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None and name == "request_id":
                value = request_id.get()
            if value is not None:
                line[name] = str(value)
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return orjson.dumps(line).decode()


def dict_config(component: str, level: str = "INFO") -> dict[str, Any]:
    """The logging configuration of a process, for `logging.config.dictConfig` (or Faust's worker)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter, "component": component}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stderr}},
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
            # MLflow's client gives itself a plain-text handler when imported; its lines come here instead,
            # and its routine notes ("waiting for the model version...") stay below warnings.
            **{
                name: {"handlers": [], "propagate": True, "level": "WARNING"}
                for name in ("mlflow", "alembic", "sqlalchemy.engine")
            },
        },
    }


def setup(component: str, level: str = "INFO") -> None:
    """Send this process's logs, as JSON lines, to standard error (the supervisor's log file); warnings
    and an uncaught exception's traceback too, so no line of the process is in another format."""
    logging.config.dictConfig(dict_config(component, level))
    logging.captureWarnings(True)
    log = logging.getLogger(component)
    sys.excepthook = lambda kind, error, trace: log.critical(
        "uncaught %s", kind.__name__, exc_info=(kind, error, trace)
    )
