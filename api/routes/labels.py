"""Labels from the field: what people on the ground say a tile shows, and where the model most needs them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import mercantile
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from api.access import Action, Principal
from api.deps import ConnDep, SettingsDep, allowed
from api.land_use import CLASSES_ES
from api.params import DistrictPath, TileXPath, TileYPath, TileZoomPath
from api.repo import imagery as imagery_repo
from api.routes.places import NOT_FOUND, Reader, visible_district
from api.schemas import Text

router = APIRouter(tags=["imagery"])
Labeller = Annotated[Principal, allowed(Action.LABEL)]
CLASSES = sorted(c for c in CLASSES_ES if c != "unassessed")


class LabelIn(BaseModel):
    land_use_class: str = Field(description=f"one of the model's classes: {', '.join(CLASSES)}",
                                examples=["denseresidential"])  # fmt: skip
    note: Text = Field("", max_length=300, examples=["Casas de esteras y calamina, sin pistas"])


class Label(BaseModel):
    tile_id: str
    district: str | None
    land_use_class: str
    note: str
    labelled_by: str
    labelled_at: datetime


class Uncertain(BaseModel):
    tile_id: str
    land_use_class: str = Field(description="what the model thinks it is")
    class_probability: float = Field(description="how sure it is: the tiles least sure come first")
    housing_score: float


@router.put("/tiles/{z}/{x}/{y}/label", response_model=Label, status_code=201, responses=NOT_FOUND)
async def label(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Labeller,
    z: TileZoomPath,
    x: TileXPath,
    y: TileYPath,
    body: LabelIn,
) -> Label:
    """Say what a tile shows on the ground (at the imagery zoom), with who and when; `vigia train --labels`
    fine-tunes the served model on these. Every label is kept; the newest per tile counts."""
    if body.land_use_class not in CLASSES:
        raise HTTPException(422, f"land_use_class: {body.land_use_class!r} is not one of {', '.join(CLASSES)}")
    if z != settings.imagery_zoom or x >= 2**z or y >= 2**z:
        raise HTTPException(422, f"label tiles at the imagery zoom ({settings.imagery_zoom}), inside the grid")
    tile_id = f"{z}/{x}/{y}"
    parent = mercantile.parent(mercantile.Tile(x, y, z), zoom=settings.tile_zoom)
    district = await imagery_repo.tile_district(conn, tile_ids=[tile_id, f"{parent.z}/{parent.x}/{parent.y}"])
    if district is None or not principal.sees(district):
        raise HTTPException(404, f"tile {tile_id} has no imagery or sensors you may see")
    row = await imagery_repo.label_tile(
        conn, tile_id=tile_id, district=district, land_use_class=body.land_use_class, note=body.note,
        by=principal.name or principal.key_id,
    )  # fmt: skip
    return Label(**row)


@router.get("/districts/{district}/labels", response_model=list[Label], responses=NOT_FOUND)
async def district_labels(conn: ConnDep, principal: Reader, district: DistrictPath) -> list[Label]:
    """The newest label of every labelled tile of the district."""
    await visible_district(conn, district, principal)
    return [Label(**row) for row in await imagery_repo.labels(conn, district=district)]


@router.get("/districts/{district}/uncertain", response_model=list[Uncertain], responses=NOT_FOUND)
async def uncertain(
    conn: ConnDep,
    settings: SettingsDep,
    principal: Reader,
    district: DistrictPath,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> list[Uncertain]:
    """The unlabelled tiles the model is least sure of, first: a team labelling these teaches it most."""
    await visible_district(conn, district, principal)
    rows = await imagery_repo.least_sure(conn, district=district, zoom=settings.imagery_zoom, limit=limit)
    return [Uncertain(**row) for row in rows]
