"""An event loop on a thread of its own, for the batch work of the stream worker.

Faust hands messages to agents one at a time on its event loop. Deciding and writing a
batch takes a tenth of a second or more of Python; run on that loop, it stops deliveries
for as long, and at 2,000 readings/s the backlog that builds up in between delayed each
reading by over a second. On a thread of its own, the interpreter switches between the
batch and Faust's deliveries every few milliseconds, and while the worker keeps up a
reading waits a fraction of that (figures and their spread: docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    async def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on this thread's loop and wait for it; cancelling the wait cancels it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
