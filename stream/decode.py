"""Raw records off the readings topic to flat readings, and whatever is not a record to a dead letter."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime

from vigia import topics
from vigia.contracts import DeadLetter
from vigia.reading_records import FlatReading, RecordError
from vigia.reading_records import decode as decode_record


def decode(values: Sequence[bytes | None], now: datetime | None = None) -> tuple[list[FlatReading], list[DeadLetter]]:
    readings: list[FlatReading] = []
    letters: list[DeadLetter] = []
    for value in values:
        try:
            readings += decode_record(value)
        except RecordError as error:
            letters.append(
                DeadLetter(
                    reason="unreadable_record",
                    detail=str(error),
                    mqtt_topic=f"kafka:{topics.READINGS}",
                    received_at=now or datetime.now(UTC),
                    payload_b64=base64.b64encode(value or b"").decode(),
                )
            )
    return readings, letters
