"""An in-memory view of the sensor registry that the bridge consults for every message.

The view is brought up to date on a timer: with `changes`, by reading only the sensors
registered, changed or revoked since the last read, and whole every `full_reload_seconds`
(which also catches a row deleted by hand); without it, whole each time. Reading 100,000
sensors whole takes seconds in which the bridge takes no message (`make bench-scale`).
A sensor the view does not know triggers an early update (at most once per `reload_gap`),
or within that gap a look-up of that sensor alone, so sensors provisioned a moment ago,
even many at once, are not dead-lettered. A sensor still unknown is remembered as unknown for
`miss_interval`, and single look-ups are capped per second, so a flood from unregistered
devices cannot hammer the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ingest.payload import SensorInfo

log = logging.getLogger("vigia.bridge.registry")
Loader = Callable[[], dict[str, SensorInfo]]
Changes = Callable[[], tuple[dict[str, SensorInfo], set[str]]]  # (registered or changed, revoked)
LookupOne = Callable[[str], SensorInfo | None]


class SensorRegistry:
    def __init__(
        self,
        loader: Loader,
        *,
        lookup_one: LookupOne | None = None,
        changes: Changes | None = None,
        refresh_seconds: float,
        full_reload_seconds: float = 600.0,
        miss_interval: float = 5.0,
        reload_gap: float = 1.0,
        lookups_per_second: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loader = loader
        self._lookup_one = lookup_one
        self._changes = changes
        self._refresh_seconds = refresh_seconds
        self._full_reload_seconds = full_reload_seconds
        self._miss_interval = miss_interval
        self._reload_gap = reload_gap
        self._lookups_per_second = lookups_per_second
        self._clock = clock
        self._sensors: dict[str, SensorInfo] = {}
        self._unknown: dict[str, float] = {}
        self._loaded_at: float | None = None
        self._full_at: float | None = None
        self._lookup_second = 0
        self._lookups_this_second = 0

    def refresh(self) -> None:
        """Load the whole registry; raises if the loader fails (at start, failing is right)."""
        self._sensors = self._loader()
        self._unknown.clear()
        self._loaded_at = self._full_at = self._clock()

    def update(self) -> None:
        """Read what changed since the last read, or everything when a whole read is due."""
        now = self._clock()
        if self._changes is None or self._full_at is None or now - self._full_at >= self._full_reload_seconds:
            self.refresh()
            return
        changed, revoked = self._changes()
        self._sensors.update(changed)
        for sensor_id in revoked:
            self._sensors.pop(sensor_id, None)
        for sensor_id in changed:
            self._unknown.pop(sensor_id, None)
        self._loaded_at = now

    def _refresh_or_keep(self) -> None:
        """While running, a registry that cannot be read keeps serving what it last knew."""
        try:
            self.update()
        except Exception:
            log.warning("sensor registry reload failed; keeping %d known sensors", len(self._sensors), exc_info=True)
            self._loaded_at = self._clock()

    def _may_look_up(self, now: float) -> bool:
        second = int(now)
        if second != self._lookup_second:
            self._lookup_second, self._lookups_this_second = second, 0
        if self._lookups_this_second >= self._lookups_per_second:
            return False
        self._lookups_this_second += 1
        return True

    def _look_up(self, sensor_id: str, now: float) -> SensorInfo | None:
        if self._lookup_one is None:
            return None
        seen_unknown = self._unknown.get(sensor_id)
        if seen_unknown is not None and now - seen_unknown < self._miss_interval:
            return None
        if self._loaded_at is not None and now - self._loaded_at >= self._reload_gap:
            self._refresh_or_keep()
            found = self._sensors.get(sensor_id)
            if found is None:
                self._unknown[sensor_id] = now
            return found
        if not self._may_look_up(now):
            return None
        try:
            found = self._lookup_one(sensor_id)
        except Exception:
            log.warning("sensor look-up failed for %s", sensor_id, exc_info=True)
            return None
        if found is None:
            self._unknown[sensor_id] = now
        else:
            self._sensors[sensor_id] = found
        return found

    def get(self, sensor_id: str) -> SensorInfo | None:
        now = self._clock()
        if self._loaded_at is None or now - self._loaded_at >= self._refresh_seconds:
            self._refresh_or_keep()
        found = self._sensors.get(sensor_id)
        return found if found is not None else self._look_up(sensor_id, now)

    def __len__(self) -> int:
        return len(self._sensors)
