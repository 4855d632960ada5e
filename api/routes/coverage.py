"""Where to install the next sensors: the district's precarious housing that no sensor watches (`api/coverage.py`)."""

from __future__ import annotations

from typing import Annotated, Any

import mercantile
from fastapi import APIRouter, HTTPException, Query

from api import evidence
from api.deps import ConnDep, SettingsDep
from api.params import DistrictPath
from api.routes.places import NOT_FOUND, Reader
from api.schemas import CoverageGap
from vigia.tiles import parse_tile_id

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
    responses={200: {"content": {"application/geo+json": {}}, "description": "a FeatureCollection"}, **NOT_FOUND},
)
async def coverage_gaps_geojson(
    conn: ConnDep, settings: SettingsDep, principal: Reader, district: DistrictPath, limit: Limit = 10
) -> dict[str, Any]:
    """The same gaps as polygons for a map layer, with their rank and figures as properties."""
    gaps = (await ranked_gaps(conn, settings, principal, district))[:limit]
    features = []
    for gap in gaps:
        w, s, e, n = mercantile.bounds(parse_tile_id(gap.tile_id))
        features.append({
            "type": "Feature", "id": gap.tile_id,
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]},
            "properties": gap.model_dump(),
        })  # fmt: skip
    return {"type": "FeatureCollection", "features": features}
