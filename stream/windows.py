"""Window arithmetic and aggregation: pure functions of timestamps and values.

A tumbling window of `size` seconds starting at `start` covers [start, start + size).
The aggregation state is a plain dict so Faust can keep it in a changelogged table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict

from vigia.contracts import HousingContext, Reading, WindowAggregate


class AggregateState(TypedDict):
    count: int
    min: float
    max: float
    sum: float
    last: float
    last_ts: float


def tumbling_start(ts: float, size: float) -> float:
    """Start (epoch seconds) of the tumbling window holding `ts`."""
    return ts - (ts % size)


def fold(state: AggregateState | None, value: float, ts: float) -> AggregateState:
    """Add one value at event time `ts`. `last` is the value with the latest event time."""
    if state is None:
        return AggregateState(count=1, min=value, max=value, sum=value, last=value, last_ts=ts)
    newer = ts >= state["last_ts"]
    return AggregateState(
        count=state["count"] + 1,
        min=min(state["min"], value),
        max=max(state["max"], value),
        sum=state["sum"] + value,
        last=value if newer else state["last"],
        last_ts=ts if newer else state["last_ts"],
    )


def to_aggregate(
    reading: Reading,
    state: AggregateState,
    *,
    window_start: float,
    size: float,
    housing: HousingContext,
) -> WindowAggregate:
    start = datetime.fromtimestamp(window_start, UTC)
    return WindowAggregate(
        sensor_id=reading.sensor_id,
        metric=reading.metric,
        window_start=start,
        window_end=start + timedelta(seconds=size),
        count=state["count"],
        min=state["min"],
        max=state["max"],
        mean=state["sum"] / state["count"],
        last=state["last"],
        last_event_time=datetime.fromtimestamp(state["last_ts"], UTC),
        district=reading.district,
        tile_id=reading.tile_id,
        housing=housing,
    )
