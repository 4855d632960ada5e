"""Imagery uploads: one image for one tile, queued for the model like any other imagery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import mercantile
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field

from api.access import Action, Principal
from api.deps import ConnDep, SettingsDep, allowed
from api.params import DistrictQuery, TileXPath, TileYPath, TileZoomPath
from api.repo import imagery as imagery_repo
from api.schemas import Problem
from api.tile_jobs import QueueUnavailable, TileJobQueue
from vigia import scenes
from vigia.contracts import TileJob
from vigia.images import MAX_BYTES, ImageError, decode

router = APIRouter(prefix="/tiles", tags=["imagery"])

ACCEPTED_TYPES = {"image/png", "image/jpeg", "image/tiff"}


class QueuedImage(BaseModel):
    tile_id: str = Field(examples=["19/150041/279759"])
    captured_at: datetime
    width: int = Field(examples=[256])
    height: int = Field(examples=[256])
    status: str = Field("queued", examples=["queued"])


def refuse_before_reading(request: Request) -> None:
    """415 for a type we do not read, 413 for a declared size over the limit: before a byte is read."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ACCEPTED_TYPES:
        raise HTTPException(415, f"send the image as the body with Content-Type one of {sorted(ACCEPTED_TYPES)}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(413, f"{int(declared):,} bytes exceeds {MAX_BYTES:,}")


async def read_image(request: Request) -> bytes:
    """The body, stopped as soon as it passes the limit (a client may send more than it declared)."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BYTES:
            raise HTTPException(413, f"more than {MAX_BYTES:,} bytes")
    return bytes(body)


def _fits_the_tile(data: bytes, zoom: int) -> None:
    """A georeferenced TIFF far coarser than the tile's zoom is refused, as `vigia imagery ingest` refuses it."""
    found = scenes.geotiff_resolution(data)
    if found is None:
        return
    metres, latitude = found
    try:
        scenes.check_resolution("the image", metres, zoom, latitude)
    except scenes.SceneRefused as error:
        raise HTTPException(422, str(error).replace("cut it with --zoom", "upload it for a tile at zoom")) from None


def image_refused(error: ImageError) -> HTTPException:
    return HTTPException(413 if error.reason == "too_large" else 422, str(error))


@router.put(
    "/{z}/{x}/{y}/imagery",
    status_code=202,
    response_model=QueuedImage,
    responses={
        413: {"model": Problem, "description": "the image is larger than the limit"},
        415: {"model": Problem, "description": "not a PNG, JPEG or TIFF"},
        422: {"model": Problem, "description": "unreadable image, wrong depth or bands, or a tile outside the grid"},
        503: {"model": Problem, "description": "the imagery queue is not reachable"},
    },
)
async def upload(
    request: Request,
    settings: SettingsDep,
    principal: Annotated[Principal, allowed(Action.ASSESS)],
    z: TileZoomPath,
    x: TileXPath,
    y: TileYPath,
    district: DistrictQuery = None,
    captured_at: Annotated[datetime | None, Query(description="when the image was taken; default: now")] = None,
) -> QueuedImage:
    """Queue one image (the request body, as image/png, image/jpeg or image/tiff) for the tile z/x/y.

    The tile must be at the sensor zoom or finer: an image of a sensor tile is that tile's
    assessment; finer ones are rolled up into the sensor tile that holds them.
    """
    refuse_before_reading(request)
    if x >= 2**z or y >= 2**z:
        raise HTTPException(422, f"tile {z}/{x}/{y} is outside the grid")
    if z < settings.tile_zoom:
        raise HTTPException(422, f"zoom {z} is coarser than the sensor tiles (zoom {settings.tile_zoom})")
    data = await read_image(request)
    try:
        rgb = await asyncio.to_thread(decode, data)
    except ImageError as error:
        raise image_refused(error) from error
    if request.headers.get("content-type", "").lower().startswith("image/tiff"):
        await asyncio.to_thread(_fits_the_tile, data, z)
    if captured_at is not None and captured_at.tzinfo is None:
        raise HTTPException(422, "captured_at must carry a timezone, e.g. 2026-01-15T15:00:00Z")
    when = (captured_at or datetime.now(UTC)).astimezone(UTC)
    job = TileJob(tile_id=f"{z}/{x}/{y}", district=district, source="upload", captured_at=when, image=data)
    queue: TileJobQueue = request.app.state.tile_jobs
    try:
        await queue.put(job)
    except QueueUnavailable as error:
        raise HTTPException(503, str(error)) from error
    return QueuedImage(tile_id=job.tile_id, captured_at=when, width=rgb.shape[1], height=rgb.shape[0])


class TileChange(BaseModel):
    tile_id: str = Field(examples=["19/150041/279759"])
    before_at: datetime
    after_at: datetime
    model_version: str
    distance: float = Field(description="cosine distance of the two embeddings; significant from 0.35")
    housing_delta: float
    built_up_delta: float
    vegetation_delta: float
    class_before: str
    class_after: str
    kind: str = Field(examples=["construction", "loss", "clearing", "land-use", "none"])
    significant: bool
    alert_id: str | None = Field(description="the alert it opened, if it did")


@router.get("/{z}/{x}/{y}/changes", response_model=list[TileChange])
async def tile_changes(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Annotated[Principal, allowed(Action.READ)],
    z: TileZoomPath,
    x: TileXPath,
    y: TileYPath,
) -> list[TileChange]:
    """What changed between acquisitions of this tile, or of the imagery tiles inside this block, newest first:
    each comparison by the model that assessed both, significant or not."""
    if x >= 2**z or y >= 2**z:
        raise HTTPException(422, f"tile {z}/{x}/{y} is outside the grid")
    depth = settings.imagery_zoom - z
    if depth > 5:
        raise HTTPException(422, f"zoom {z} is too far out; ask for a block at zoom {settings.imagery_zoom - 5} or in")
    inside = [mercantile.Tile(x, y, z)] if depth <= 0 else mercantile.children(x, y, z, zoom=settings.imagery_zoom)
    rows = await imagery_repo.changes(
        conn, tile_ids=[f"{t.z}/{t.x}/{t.y}" for t in inside], districts=principal.districts()
    )
    return [TileChange(**row) for row in rows]
