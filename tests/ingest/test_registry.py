from __future__ import annotations

from ingest.payload import SensorInfo
from ingest.registry import SensorRegistry
from vigia.contracts import Metric


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


def test_a_sensor_provisioned_after_the_last_load_is_found_at_once() -> None:
    clock = Clock()
    known: dict[str, SensorInfo] = {}
    looked_up: list[str] = []

    def one(sensor_id: str) -> SensorInfo | None:
        looked_up.append(sensor_id)
        return known.get(sensor_id)

    registry = SensorRegistry(lambda: dict(known), lookup_one=one, refresh_seconds=30, clock=clock)
    assert registry.get("a") is None  # first full load, then a look-up: truly unknown
    known["a"] = SENSOR
    clock.now = 5.1
    assert registry.get("a") == SENSOR  # a full reload found it
    assert registry.get("a") == SENSOR
    assert looked_up == ["a"]


def test_many_new_sensors_at_once_cost_one_reload() -> None:
    clock = Clock()
    known: dict[str, SensorInfo] = {}
    loads: list[int] = []

    def loader() -> dict[str, SensorInfo]:
        loads.append(1)
        return dict(known)

    registry = SensorRegistry(loader, lookup_one=lambda _: None, refresh_seconds=30, clock=clock)
    registry.get("warm-up")
    for index in range(50):
        known[f"new-{index}"] = SensorInfo(f"new-{index}", "comas", "17/1/1", frozenset({Metric.FLOW}))
    clock.now = 2.0
    assert all(registry.get(f"new-{index}") is not None for index in range(50))
    assert len(loads) == 2


def test_unknown_sensors_are_looked_up_at_most_once_per_interval_and_capped() -> None:
    clock = Clock()
    looked_up: list[str] = []

    def one(sensor_id: str) -> SensorInfo | None:
        looked_up.append(sensor_id)
        return None

    registry = SensorRegistry(
        dict, lookup_one=one, refresh_seconds=300, miss_interval=5, reload_gap=60, lookups_per_second=3, clock=clock
    )
    for _ in range(10):
        registry.get("ghost")
    assert looked_up == ["ghost"]
    for index in range(10):
        registry.get(f"random-{index}")
    assert len(looked_up) == 3  # the cap for this second
    clock.now = 1.0
    registry.get("random-9")
    assert looked_up[-1] == "random-9"


def test_between_whole_reads_only_what_changed_is_read_and_a_revoked_sensor_goes() -> None:
    clock = Clock()
    other = SensorInfo("b", "comas", "17/1/2", frozenset({Metric.FLOW}))
    moved = SensorInfo("a", "ate", "17/9/9", frozenset({Metric.FLOW}))
    wholes: list[int] = []
    pending: list[tuple[dict[str, SensorInfo], set[str]]] = [({"b": other}, set()), ({"a": moved}, {"b"})]
    asked: list[int] = []

    def everything() -> dict[str, SensorInfo]:
        wholes.append(1)
        return {"a": SENSOR}

    def changes() -> tuple[dict[str, SensorInfo], set[str]]:
        asked.append(1)
        return pending.pop(0) if pending else ({}, set())

    registry = SensorRegistry(
        everything, changes=changes, refresh_seconds=30, full_reload_seconds=600, miss_interval=5, clock=clock
    )
    assert registry.get("b") is None  # not yet registered; no look-up of one sensor was given
    clock.now = 30
    assert registry.get("b") == other
    clock.now = 60
    assert registry.get("a") == moved
    assert registry.get("b") is None  # revoked
    assert (len(wholes), len(asked)) == (1, 2)
    clock.now = 600
    assert registry.get("a") == SENSOR  # the whole read, due every ten minutes, is the truth
    assert len(wholes) == 2
