"""Per-sensor calibration: an offset and a gain per metric, measured against a reference, versioned.

The bridge applies the newest version to what the sensor sends from its next registry
refresh on (`VIGIA_REGISTRY_REFRESH_SECONDS`); each reading keeps its raw value and the
version applied (see `ingest/calibration.py`).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api import repo
from api.deps import ConnDep
from api.params import SensorIdPath
from api.routes.sensors import NOT_FOUND, Admin, Reader, visible_sensor
from api.schemas import Text
from vigia.contracts import Metric

router = APIRouter(prefix="/sensors", tags=["sensors"])


class CalibrationIn(BaseModel):
    gain: float = Field(1.0, gt=0, le=100, allow_inf_nan=False, description="multiplies the raw value")
    offset: float = Field(0.0, ge=-10_000, le=10_000, allow_inf_nan=False,
                          description="added after the gain, in the metric's canonical unit")  # fmt: skip
    note: Text = Field("", max_length=300, examples=["Contrastado con manómetro patrón el 2026-12-02"])


class Calibration(BaseModel):
    sensor_id: str
    metric: Metric
    version: int
    gain: float
    offset: float
    note: str
    set_by: str
    set_at: datetime


@router.put(
    "/{sensor_id}/calibrations/{metric}",
    status_code=201,
    response_model=Calibration,
    responses={**NOT_FOUND, 422: {"description": "a metric the sensor does not report, or a gain out of range"}},
)
async def calibrate(
    conn: ConnDep, principal: Admin, sensor_id: SensorIdPath, metric: Metric, body: CalibrationIn
) -> Calibration:
    """Set a new version of the sensor's calibration for one metric: value = gain * raw + offset."""
    found = await visible_sensor(conn, sensor_id, principal)
    if metric.value not in found["metrics"]:
        raise HTTPException(422, f"sensor {sensor_id!r} does not report {metric.value}: {', '.join(found['metrics'])}")
    row = await repo.add_calibration(
        conn, sensor_id=sensor_id, metric=metric.value, gain=body.gain, offset=body.offset, note=body.note.strip(),
        by=principal.name or principal.key_id,
    )  # fmt: skip
    return Calibration(**row)


@router.get("/{sensor_id}/calibrations", response_model=list[Calibration], responses=NOT_FOUND)
async def calibrations(conn: ConnDep, principal: Reader, sensor_id: SensorIdPath) -> list[Calibration]:
    """Every version of the sensor's calibrations, newest first for each metric; the first of each applies."""
    await visible_sensor(conn, sensor_id, principal)
    return [Calibration(**row) for row in await repo.calibrations(conn, sensor_id=sensor_id)]
