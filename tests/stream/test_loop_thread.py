"""The batch loop runs coroutines on its own thread, with results, errors and cancellation carried back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from stream.loop_thread import LoopThread


@pytest.fixture
def batch_loop() -> Iterator[LoopThread]:
    loop = LoopThread("test-batches")
    yield loop
    loop.stop()


def test_a_coroutine_runs_on_the_thread_and_returns_its_result(batch_loop: LoopThread) -> None:
    async def where() -> str:
        return threading.current_thread().name

    assert asyncio.run(batch_loop.run(where())) == "test-batches"


def test_an_error_reaches_the_caller(batch_loop: LoopThread) -> None:
    async def fail() -> None:
        raise ValueError("bad batch")

    with pytest.raises(ValueError, match="bad batch"):
        asyncio.run(batch_loop.run(fail()))


def test_cancelling_the_wait_cancels_the_work(batch_loop: LoopThread) -> None:
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def caller() -> None:
        task = asyncio.create_task(batch_loop.run(slow()))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(caller())
    assert cancelled.wait(5)
