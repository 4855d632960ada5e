"""Where to install the next sensors: the district's precarious housing that no sensor watches (`api/coverage.py`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api import evidence, geojson
from api.deps import ConnDep, SettingsDep
from api.params import DistrictPath
from api.routes.places import NOT_FOUND, Reader
from api.schemas import CoverageGap

router = APIRouter(tags=["places"])
Limit = Annotated[int, Query(ge=1, le=500, description="how many, most in need first")]


async def ranked_gaps(conn: ConnDep, settings: SettingsDep, principal: Reader, district: str) -> list[CoverageGap]:
    """Every gap of the district, ranked; 404 for a district the caller cannot see or nobody measured."""
    if not principal.sees(district):
        raise HTTPException(404, f"district {district!r} has neither sensors nor imagery")
    zooms = {"imagery_zoom": settings.imagery_zoom, "tile_zoom": settings.tile_zoom}
    found = await evidence.coverage_gaps(conn, district, **zooms)
    if found is None:
        raise HTTPException(404, f"district {district!r} has neither sensors nor assessed imagery")
    return found


@router.get("/districts/{district}/coverage-gaps", response_model=list[CoverageGap], responses=NOT_FOUND)
async def coverage_gaps(
    conn: ConnDep, settings: SettingsDep, principal: Reader, district: DistrictPath, limit: Limit = 10
) -> list[CoverageGap]:
    """Where to install the next sensors: tiles whose housing score is 0.6 or more and that no sensor watches
    (none in the tile or its eight neighbours at the imagery zoom), ranked by housing score times built-up
    fraction, a proxy for how many homes are there."""
    return (await ranked_gaps(conn, settings, principal, district))[:limit]


@router.get(
    "/districts/{district}/coverage-gaps.geojson",
    response_class=Response,
    responses={200: {"content": {geojson.MEDIA_TYPE: {}}, "description": "a FeatureCollection"}, **NOT_FOUND},
)
async def coverage_gaps_geojson(
    conn: ConnDep, settings: SettingsDep, principal: Reader, district: DistrictPath, limit: Limit = 10
) -> Response:
    """The same gaps as polygons for a map layer, with their rank and figures as properties."""
    gaps = (await ranked_gaps(conn, settings, principal, district))[:limit]
    return geojson.feature_collection([
        {"type": "Feature", "id": gap.tile_id, "geometry": geojson.tile_polygon(gap.tile_id),
         "properties": gap.model_dump(mode="json")}
        for gap in gaps
    ])  # fmt: skip
