from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigia.contracts import HousingContext, Metric, Reading
from vigia.stream.windows import AggregateState, fold, to_aggregate, tumbling_start

T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("ts", "size", "start"),
    [(T0, 60, T0), (T0 + 59.999, 60, T0), (T0 + 60, 60, T0 + 60), (T0 + 61, 60, T0 + 60), (T0 + 899, 900, T0)],
)
def test_tumbling_window_start(ts: float, size: float, start: float) -> None:
    assert tumbling_start(ts, size) == start


def run(values: list[tuple[float, float]]) -> AggregateState:
    state = None
    for value, ts in values:
        state = fold(state, value, ts)
    assert state is not None
    return state


def test_fold_counts_extremes_and_sum() -> None:
    state = run([(1.5, T0 + 1), (0.2, T0 + 2), (2.0, T0 + 3)])
    assert (state["count"], state["min"], state["max"]) == (3, 0.2, 2.0)
    assert state["sum"] == pytest.approx(3.7)


def test_last_follows_event_time_not_arrival_order() -> None:
    state = run([(1.0, T0 + 10), (9.0, T0 + 5)])  # the second arrives late
    assert state["last"] == 1.0
    assert state["last_ts"] == T0 + 10


def test_aggregate_carries_window_bounds_mean_and_housing() -> None:
    reading = Reading(
        sensor_id="s",
        district="comas",
        tile_id="17/1/1",
        metric=Metric.FLOOD_LEVEL,
        value=0.3,
        unit="m",
        event_time=datetime.fromtimestamp(T0 + 30, UTC),
        received_at=datetime.fromtimestamp(T0 + 31, UTC),
    )
    state = run([(0.1, T0 + 10), (0.3, T0 + 30)])
    housing = HousingContext(
        embedding_id="v1/17/1/1/x", model_version="v1", land_use_class="denseresidential", housing_score=0.8
    )
    aggregate = to_aggregate(reading, state, window_start=T0, size=60, housing=housing)
    assert aggregate.window_start == datetime.fromtimestamp(T0, UTC)
    assert (aggregate.window_end - aggregate.window_start).total_seconds() == 60
    assert aggregate.mean == pytest.approx(0.2)
    assert aggregate.last == 0.3
    assert aggregate.housing.embedding_id == "v1/17/1/1/x"
