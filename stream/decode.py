"""Raw records off the readings topic to readings, and whatever is not one to a dead letter."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import ValidationError

from vigia import topics
from vigia.contracts import DeadLetter, Reading


def decode(values: Sequence[bytes | None], now: datetime | None = None) -> tuple[list[Reading], list[DeadLetter]]:
    readings: list[Reading] = []
    letters: list[DeadLetter] = []
    for value in values:
        try:
            readings.append(Reading.model_validate_json(value or b""))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            letters.append(
                DeadLetter(
                    reason="unreadable_record",
                    detail=f"not a reading{f' ({where})' if where else ''}: {first['msg']}",
                    mqtt_topic=f"kafka:{topics.READINGS}",
                    received_at=now or datetime.now(UTC),
                    payload_b64=base64.b64encode(value or b"").decode(),
                )
            )
    return readings, letters
