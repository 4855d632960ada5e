"""SenML (RFC 8428) JSON packs resolved into plain records.

Base fields (bn, bt, bu, bv, bver) apply to their record and every later record until
another record sets them again (RFC 8428 section 4.1). A resolved time below 2**28 is
relative to now (section 4.5.3); a resolved name is bn + n. Records marked with a
must-understand field (name ending in "_") and packs of a newer version are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ingest.rejection import Rejected

RELATIVE_TIME_LIMIT = 2**28
SUPPORTED_VERSION = 10
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-:./_]*$")
VALUE_FIELDS = ("v", "vs", "vb", "vd")


class SenMLError(Rejected):
    """A pack that does not follow RFC 8428."""


@dataclass(frozen=True)
class Record:
    """One resolved SenML record: full name, absolute time (epoch seconds), unit and value."""

    name: str
    time: float
    unit: str | None
    value: float | str | bool | None
    total: float | None = None  # the "s" (sum) field


def _number(record: dict[str, Any], key: str, index: int) -> float | None:
    raw = record.get(key)
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise SenMLError("bad_senml", f"record {index}: {key} must be a number")
    if not math.isfinite(raw):
        raise SenMLError("not_finite", f"record {index}: {key} is not finite")
    return float(raw)


def _text(record: dict[str, Any], key: str, index: int) -> str | None:
    raw = record.get(key)
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise SenMLError("bad_senml", f"record {index}: {key} must be a string")
    return raw


def resolve(pack: Any, now: float) -> list[Record]:
    """Resolve a SenML pack (a JSON array of records) against the current time `now`."""
    if not isinstance(pack, list) or not pack:
        raise SenMLError("bad_senml", "a SenML pack is a non-empty JSON array")
    base_name, base_unit = "", None
    base_time, base_value, base_sum = 0.0, None, None
    resolved = []
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise SenMLError("bad_senml", f"record {index} is not an object")
        must_understand = [key for key in record if key.endswith("_")]
        if must_understand:
            raise SenMLError("bad_senml", f"record {index}: must-understand field(s) {must_understand} not supported")
        version = _number(record, "bver", index)
        if version is not None and version > SUPPORTED_VERSION:
            raise SenMLError(
                "bad_senml", f"record {index}: SenML version {version:g} is newer than {SUPPORTED_VERSION}"
            )
        if "bn" in record:
            base_name = _text(record, "bn", index) or ""
        if "bt" in record:
            base_time = _number(record, "bt", index) or 0.0
        if "bu" in record:
            base_unit = _text(record, "bu", index)
        if "bv" in record:
            base_value = _number(record, "bv", index)
        if "bs" in record:
            base_sum = _number(record, "bs", index)

        name = base_name + (_text(record, "n", index) or "")
        if not name or not NAME_PATTERN.match(name):
            raise SenMLError("bad_senml", f"record {index}: name {name!r} is empty or has characters SenML forbids")
        time = base_time + (_number(record, "t", index) or 0.0)
        if time < RELATIVE_TIME_LIMIT:
            time = now + time
        unit = _text(record, "u", index) if "u" in record else base_unit

        present = [key for key in VALUE_FIELDS if key in record]
        if len(present) > 1:
            raise SenMLError("bad_senml", f"record {index} has more than one value field: {present}")
        value: float | str | bool | None = None
        if "v" in record:
            number = _number(record, "v", index)
            value = (base_value or 0.0) + (number or 0.0)
        elif "vs" in record:
            value = _text(record, "vs", index)
        elif "vb" in record:
            if not isinstance(record["vb"], bool):
                raise SenMLError("bad_senml", f"record {index}: vb must be true or false")
            value = record["vb"]
        elif "vd" in record:
            value = _text(record, "vd", index)
        total = _number(record, "s", index)
        if total is not None and base_sum is not None:
            total += base_sum
        if value is None and total is None:
            raise SenMLError("bad_senml", f"record {index} ({name}) carries neither a value nor a sum")
        resolved.append(Record(name=name, time=time, unit=unit, value=value, total=total))
    return resolved
