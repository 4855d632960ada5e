"""`GET /imagery/{z}/{x}/{y}.png`: the district's own imagery as the map's base layer.

Tiles are composed from the archive (`api/map_tiles.py`) on a worker thread, remembered
by their ETag (the images they show), and answered 304 when the browser already has them.
A community leader's key sees only their district's imagery.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api import map_tiles
from api.access import Action, Principal
from api.deps import ConnDep, SettingsDep, allowed
from api.params import MapZoomPath, TileXPath, TileYPath
from api.repo import imagery as imagery_repo
from api.schemas import Problem
from vigia.archive import ImageryArchive
from vigia.settings import Settings

router = APIRouter(tags=["places"])
Reader = Annotated[Principal, allowed(Action.READ)]
CACHE_SIZE = 512  # rendered tiles kept per API process: about 30 MB at 60 KB a tile
HEADERS = {"Cache-Control": "private, max-age=300"}


class RenderedTiles:
    """The last tiles drawn, by ETag: the map asks for the same few dozen again and again."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.tiles: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        if key in self.tiles:
            self.tiles.move_to_end(key)
            return self.tiles[key]
        return None

    def put(self, key: str, png: bytes) -> None:
        self.tiles[key] = png
        self.tiles.move_to_end(key)
        while len(self.tiles) > self.size:
            self.tiles.popitem(last=False)


RENDERED = RenderedTiles()


class Acquisition(BaseModel):
    captured_at: datetime
    source: str = Field(examples=["vuelo-dron-2026-03.tif"])
    tiles: int = Field(description="imagery tiles of this acquisition inside the map tile")


def _area(settings: Settings, z: int, x: int, y: int) -> map_tiles.Span:
    try:
        return map_tiles.span(z, x, y, imagery_zoom=settings.imagery_zoom)
    except map_tiles.OutOfRange as error:
        raise HTTPException(404, str(error)) from error


@router.get(
    "/imagery/{z}/{x}/{y}/acquisitions",
    response_model=list[Acquisition],
    responses={404: {"model": Problem, "description": "a zoom this layer does not draw"}},
)
async def acquisitions(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Reader,
    z: MapZoomPath,
    x: TileXPath,
    y: TileYPath,
) -> list[Acquisition]:
    """When this place was imaged, oldest first: the dates to compare it between (`?at=` on the PNG)."""
    area = _area(settings, z, x, y)
    rows = await imagery_repo.acquisitions_inside(
        conn, zoom=settings.imagery_zoom, x0=area.x0, x1=area.x1, y0=area.y0, y1=area.y1,
        districts=principal.districts(),
    )  # fmt: skip
    return [Acquisition(**row) for row in rows]


@router.get(
    "/imagery/{z}/{x}/{y}.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "a 256 px PNG, transparent where no image was taken"},
               304: {"description": "unchanged since the ETag sent"},
               404: {"description": "no imagery in this tile, or a zoom this layer does not draw"}},
)  # fmt: skip
async def imagery_tile(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Reader,
    z: MapZoomPath,
    x: TileXPath,
    y: TileYPath,
    at: Annotated[datetime | None, Query(description="as the place was then: images captured by this time")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """A map tile of the archived imagery: the newest image of every imagery tile inside it (by `at`)."""
    area = _area(settings, z, x, y)
    images = await imagery_repo.newest_inside(
        conn, zoom=settings.imagery_zoom, x0=area.x0, x1=area.x1, y0=area.y0, y1=area.y1,
        districts=principal.districts(), at=at,
    )  # fmt: skip
    if not images:
        raise HTTPException(404, f"no imagery in tile {z}/{x}/{y}" + (f" by {at:%Y-%m-%d}" if at else ""))
    tag = f'"{map_tiles.etag(images)}-{area.depth}"'
    headers = {**HEADERS, "ETag": tag}
    if if_none_match == tag:
        return Response(status_code=304, headers=headers)
    png = RENDERED.get(tag)
    if png is None:
        archive = ImageryArchive.from_settings(settings)
        png = await asyncio.to_thread(map_tiles.compose, area, images, archive.get)
        RENDERED.put(tag, png)
    return Response(png, media_type="image/png", headers=headers)
