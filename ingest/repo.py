"""SQL of the bridge: the active sensors it accepts readings from (`vigia.registry` writes them)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from ingest.calibration import Calibration
from ingest.payload import SensorInfo
from vigia.contracts import Metric

KNOWN_METRICS = frozenset(m.value for m in Metric)


SENSOR_COLUMNS = "sensor_id, district, tile_id, metrics, sensor_type"


# The newest calibration of each sensor and metric.
CALIBRATIONS = """SELECT DISTINCT ON (sensor_id, metric) sensor_id, metric, version, gain, offset_value
                  FROM sensor_calibrations WHERE {where} ORDER BY sensor_id, metric, version DESC"""


def _sensor_info(row: tuple[Any, ...], calibrations: dict[Metric, Calibration]) -> SensorInfo:
    sensor_id, district, tile_id, metrics, sensor_type = row
    return SensorInfo(
        sensor_id=sensor_id,
        district=district,
        tile_id=tile_id,
        metrics=frozenset(Metric(m) for m in metrics if m in KNOWN_METRICS),
        sensor_type=sensor_type,
        calibrations=calibrations,
    )


def _calibrations(rows: list[tuple[Any, ...]]) -> dict[str, dict[Metric, Calibration]]:
    found: dict[str, dict[Metric, Calibration]] = {}
    for sensor_id, metric, version, gain, offset in rows:
        if metric in KNOWN_METRICS:
            found.setdefault(sensor_id, {})[Metric(metric)] = Calibration(version, gain, offset)
    return found


def load_active_sensors(conn: psycopg.Connection) -> dict[str, SensorInfo]:
    rows = conn.execute(f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE revoked_at IS NULL").fetchall()  # noqa: S608
    calibrations = _calibrations(conn.execute(CALIBRATIONS.format(where="true")).fetchall())
    return {row[0]: _sensor_info(row, calibrations.get(row[0], {})) for row in rows}


def active_sensor(conn: psycopg.Connection, *, sensor_id: str) -> SensorInfo | None:
    row = conn.execute(
        f"SELECT {SENSOR_COLUMNS} FROM sensors WHERE sensor_id = %s AND revoked_at IS NULL",  # noqa: S608
        (sensor_id,),
    ).fetchone()
    if row is None:
        return None
    found = conn.execute(CALIBRATIONS.format(where="sensor_id = %s"), (sensor_id,)).fetchall()
    return _sensor_info(row, _calibrations(found).get(sensor_id, {}))


# A change is stamped with its transaction's start, and may commit after a read that ran
# later: each read starts this far before the previous one to see such a change too.
LATE_COMMIT_MARGIN = timedelta(minutes=1)


def changed_sensors(conn: psycopg.Connection, *, since: datetime) -> tuple[dict[str, SensorInfo], set[str]]:
    """(sensors registered or changed since then, with their calibrations; sensors revoked since then)."""
    rows = conn.execute(
        f"""WITH changed AS (
                SELECT sensor_id FROM sensors WHERE changed_at >= %(since)s
                UNION SELECT sensor_id FROM sensor_calibrations WHERE set_at >= %(since)s)
            SELECT {SENSOR_COLUMNS}, revoked_at IS NOT NULL FROM sensors JOIN changed USING (sensor_id)""",  # noqa: S608
        {"since": since},
    ).fetchall()
    active = [row[:-1] for row in rows if not row[-1]]
    revoked = {row[0] for row in rows if row[-1]}
    if not active:  # the usual answer every 30 s: no second query for it
        return {}, revoked
    found = conn.execute(CALIBRATIONS.format(where="sensor_id = ANY(%s)"), ([row[0] for row in active],)).fetchall()
    calibrations = _calibrations(found)
    return {row[0]: _sensor_info(row, calibrations.get(row[0], {})) for row in active}, revoked


class RegistryReader:
    """Reads the registry whole, or what changed since the last read, on a connection it is given."""

    def __init__(self, connect: Callable[[], psycopg.Connection]) -> None:
        self._connect = connect
        self._since: datetime | None = None

    def _next_since(self, conn: psycopg.Connection) -> datetime:
        row = conn.execute("SELECT now()").fetchone()
        if row is None:
            raise psycopg.OperationalError("the database did not say what time it is")
        at: datetime = row[0]
        return at - LATE_COMMIT_MARGIN

    def everything(self) -> dict[str, SensorInfo]:
        conn = self._connect()
        since = self._next_since(conn)
        found = load_active_sensors(conn)
        self._since = since
        return found

    def changes(self) -> tuple[dict[str, SensorInfo], set[str]]:
        """What changed since the last read; everything, the first time."""
        if self._since is None:
            return self.everything(), set()
        conn = self._connect()
        since = self._next_since(conn)
        found = changed_sensors(conn, since=self._since)
        self._since = since
        return found
