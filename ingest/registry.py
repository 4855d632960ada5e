"""An in-memory view of the sensor registry that the bridge consults for every message.

Refreshed on a timer, and early when an unknown sensor shows up (a sensor provisioned a
moment ago must not be dead-lettered), but never more than once per `miss_interval` so a
flood from an unregistered device cannot hammer the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from vigia.ingest.payload import SensorInfo

log = logging.getLogger("vigia.bridge.registry")
Loader = Callable[[], dict[str, SensorInfo]]


class SensorRegistry:
    def __init__(
        self,
        loader: Loader,
        *,
        refresh_seconds: float,
        miss_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._refresh_seconds = refresh_seconds
        self._miss_interval = miss_interval
        self._clock = clock
        self._sensors: dict[str, SensorInfo] = {}
        self._loaded_at: float | None = None

    def refresh(self) -> None:
        """Load the registry; raises if the loader fails (used at start, where failing is right)."""
        self._sensors = self._loader()
        self._loaded_at = self._clock()

    def _refresh_or_keep(self) -> None:
        """While running, a registry that cannot be reloaded keeps serving what it last knew."""
        try:
            self.refresh()
        except Exception:
            log.warning("sensor registry reload failed; keeping %d known sensors", len(self._sensors), exc_info=True)
            self._loaded_at = self._clock()

    def get(self, sensor_id: str) -> SensorInfo | None:
        now = self._clock()
        if (
            self._loaded_at is None
            or now - self._loaded_at >= self._refresh_seconds
            or (sensor_id not in self._sensors and now - self._loaded_at >= self._miss_interval)
        ):
            self._refresh_or_keep()
        return self._sensors.get(sensor_id)

    def __len__(self) -> int:
        return len(self._sensors)
