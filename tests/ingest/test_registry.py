from __future__ import annotations

from vigia.contracts import Metric
from vigia.ingest.payload import SensorInfo
from vigia.ingest.registry import SensorRegistry


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make(known: dict[str, SensorInfo], clock: Clock) -> tuple[SensorRegistry, list[int]]:
    loads: list[int] = []

    def loader() -> dict[str, SensorInfo]:
        loads.append(1)
        return dict(known)

    return SensorRegistry(loader, refresh_seconds=30, miss_interval=5, clock=clock), loads


SENSOR = SensorInfo("a", "comas", "17/1/1", frozenset({Metric.FLOW}))


def test_known_sensor_is_served_from_memory_until_refresh_is_due() -> None:
    clock = Clock()
    registry, loads = make({"a": SENSOR}, clock)
    assert registry.get("a") == SENSOR
    clock.now = 29
    assert registry.get("a") == SENSOR
    assert len(loads) == 1
    clock.now = 30
    registry.get("a")
    assert len(loads) == 2


def test_unknown_sensor_triggers_an_early_reload_at_most_every_miss_interval() -> None:
    clock = Clock()
    known: dict[str, SensorInfo] = {}
    registry, loads = make(known, clock)
    assert registry.get("a") is None
    clock.now = 1
    assert registry.get("a") is None  # too soon to ask the database again
    assert len(loads) == 1
    known["a"] = SENSOR  # provisioned meanwhile
    clock.now = 6
    assert registry.get("a") == SENSOR


def test_a_failing_reload_keeps_the_last_good_view() -> None:
    clock = Clock()
    answers: list[dict[str, SensorInfo] | Exception] = [{"a": SENSOR}, RuntimeError("database away")]

    def loader() -> dict[str, SensorInfo]:
        answer = answers.pop(0) if answers else {"a": SENSOR}
        if isinstance(answer, Exception):
            raise answer
        return answer

    registry = SensorRegistry(loader, refresh_seconds=30, miss_interval=5, clock=clock)
    assert registry.get("a") == SENSOR
    clock.now = 31
    assert registry.get("a") == SENSOR  # reload failed, old view kept
    clock.now = 32
    assert registry.get("a") == SENSOR
    assert answers == []
