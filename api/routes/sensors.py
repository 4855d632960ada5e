from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path

from vigia.api import repo
from vigia.api.deps import ConnDep
from vigia.api.schemas import LatestReading, LatestWindow, Problem, SensorLatest

router = APIRouter(prefix="/sensors", tags=["sensors"])

SensorId = Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", examples=["sjl-water-01"])


@router.get("/{sensor_id}/latest", response_model=SensorLatest, responses={404: {"model": Problem}})
async def latest(conn: ConnDep, sensor_id: str = SensorId) -> SensorLatest:
    """The newest reading of each metric and the newest one-minute window, with its housing context."""
    found = await repo.sensor(conn, sensor_id=sensor_id)
    if found is None:
        raise HTTPException(status_code=404, detail=f"sensor {sensor_id!r} is not registered")
    readings = await repo.latest_readings(conn, sensor_id=sensor_id)
    windows = await repo.latest_windows(conn, sensor_id=sensor_id)
    return SensorLatest(
        sensor_id=found["sensor_id"],
        sensor_type=found["sensor_type"],
        district=found["district"],
        tile_id=found["tile_id"],
        latitude=found["latitude"],
        longitude=found["longitude"],
        readings=[LatestReading(**row) for row in readings],
        windows=[LatestWindow(**row) for row in windows],
    )
