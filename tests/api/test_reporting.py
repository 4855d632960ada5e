"""The sensors-reporting count: counted once, then served while it is counted again behind."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api import reporting


class Pool:
    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[None]:
        yield None


def test_a_stale_count_is_served_while_it_is_counted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[list[str]] = []
    heard = {"ate": 3, "comas": 7}

    async def sensors_reporting(conn: Any, *, districts: list[str]) -> dict[str, int]:
        counted.append(districts)
        return {d: heard[d] for d in districts}

    monkeypatch.setattr(reporting.repo, "sensors_reporting", sensors_reporting)
    now = [0.0]
    kept = reporting.Reporting(Pool(), refresh_seconds=30, clock=lambda: now[0])  # type: ignore[arg-type]

    async def scenario() -> list[dict[str, int]]:
        seen = [await kept.counts(None, ["ate", "comas"])]  # type: ignore[arg-type]
        heard["ate"] = 5
        now[0] = 10.0
        seen.append(await kept.counts(None, ["ate"]))  # type: ignore[arg-type]  # fresh enough: not counted
        now[0] = 31.0
        seen.append(await kept.counts(None, ["ate"]))  # type: ignore[arg-type]  # stale: the old count, a recount
        seen.append(await kept.counts(None, ["ate"]))  # type: ignore[arg-type]  # one recount at a time
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        seen.append(await kept.counts(None, ["ate"]))  # type: ignore[arg-type]
        await kept.close()
        return seen

    assert asyncio.run(scenario()) == [{"ate": 3, "comas": 7}, {"ate": 3}, {"ate": 3}, {"ate": 3}, {"ate": 5}]
    assert counted == [["ate", "comas"], ["ate"]]
