"""Districts and tiles: live status, the map, service continuity, and where to act first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import mercantile
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from api import evidence, geojson, priorities, repo, report, semester
from api.access import Action, Principal
from api.deps import ConnDep, ReportingDep, SettingsDep, allowed
from api.params import DistrictPath, DistrictQuery, TileXPath, TileYPath, TileZoomPath
from api.schemas import (
    Alert,
    Assessment,
    DistrictPriority,
    DistrictStatus,
    PriorityRow,
    Problem,
    Text,
    TileSensor,
    TileStatus,
)

router = APIRouter(tags=["places"])

Reader = Annotated[Principal, allowed(Action.READ)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such district or tile"}}


def status_of(open_alerts: int, critical: int, assessed: bool) -> str:
    if critical:
        return "critical"
    if open_alerts:
        return "warning"
    return "ok" if assessed else "unassessed"


async def visible_district(conn: ConnDep, district: str, principal: Principal) -> None:
    if not principal.sees(district) or not await repo.district_exists(conn, district=district):
        raise not_a_district(district)


def not_a_district(district: str) -> HTTPException:
    return HTTPException(404, f"district {district!r} has neither sensors nor imagery")


@router.get("/districts", response_model=list[DistrictStatus])
async def districts(
    conn: ConnDep, principal: Reader, settings: SettingsDep, reporting: ReportingDep
) -> list[DistrictStatus]:
    """Every district the caller may see, with its sensors, open alerts and housing."""
    rows = await repo.districts(conn, districts=principal.districts(), zoom=settings.tile_zoom)
    heard = await reporting.counts(conn, [row["district"] for row in rows])
    return [_status(row, heard[row["district"]]) for row in rows]


def _status(row: dict[str, Any], reporting: int) -> DistrictStatus:
    return DistrictStatus(
        **row, sensors_reporting=reporting, status=status_of(row["open_alerts"], row["critical_alerts"], True)
    )


@router.get("/districts/{district}", response_model=DistrictStatus, responses=NOT_FOUND)
async def district(
    conn: ConnDep, principal: Reader, settings: SettingsDep, reporting: ReportingDep, district: DistrictPath
) -> DistrictStatus:
    row = None
    if principal.sees(district):
        row = await repo.district_status(conn, district=district, zoom=settings.tile_zoom)
    if row is None:
        raise not_a_district(district)
    return _status(row, (await reporting.counts(conn, [district]))[district])


@router.get(
    "/districts/{district}/tiles.geojson",
    response_class=Response,
    responses={200: {"content": {geojson.MEDIA_TYPE: {}}, "description": "a FeatureCollection"}, **NOT_FOUND},
)
async def district_geojson(conn: ConnDep, principal: Reader, settings: SettingsDep, district: DistrictPath) -> Response:
    """The district's tiles as polygons, with housing score, class, sensors and open alerts, for a map."""
    await visible_district(conn, district, principal)
    tiles = await repo.district_tiles(conn, district=district, zoom=settings.tile_zoom)
    features = [
        {
            "type": "Feature",
            "id": t["tile_id"],
            "geometry": geojson.tile_polygon(t["tile_id"]),
            "properties": {
                **{k: v for k, v in t.items() if k != "assessed_at"},
                "assessed_at": t["assessed_at"].isoformat() if t["assessed_at"] else None,
                "status": status_of(t["open_alerts"], t["critical_alerts"], t["housing_score"] is not None),
            },
        }
        for t in tiles
    ]
    return geojson.feature_collection(features)


async def _known_tile(
    conn: ConnDep, tile_id: str, principal: Principal
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The tile's newest assessment and its sensors; 404 if neither exists or its district is not the caller's."""
    assessment = await repo.tile_assessment(conn, tile_id=tile_id)
    sensors = await repo.tile_sensors(conn, tile_id=tile_id)
    district = (assessment or {}).get("district") or (sensors[0]["district"] if sensors else None)
    if (assessment is None and not sensors) or not principal.sees(district):
        raise HTTPException(404, f"nothing is known of tile {tile_id}")
    return assessment, sensors


@router.get("/tiles/{z}/{x}/{y}", response_model=TileStatus, responses=NOT_FOUND)
async def tile(
    conn: ConnDep,
    principal: Reader,
    z: TileZoomPath,
    x: TileXPath,
    y: TileYPath,
) -> TileStatus:
    """A tile's newest assessment, its sensors and its open alerts."""
    if x >= 2**z or y >= 2**z:
        raise HTTPException(404, f"tile {z}/{x}/{y} is outside the grid")
    tile_id = f"{z}/{x}/{y}"
    assessment, sensors = await _known_tile(conn, tile_id, principal)
    open_alerts = await repo.alerts(
        conn, districts=principal.districts(), district=None, severities=None, states=["open", "acknowledged"],
        sensor_id=None, tile_id=tile_id, since=None, until=None, limit=500,
    )  # fmt: skip
    critical = sum(1 for a in open_alerts if a["severity"] == "critical")
    places = await repo.tile_places(conn, tile_ids=[tile_id])
    return TileStatus(
        tile_id=tile_id,
        place=places.get(tile_id, ""),
        bounds=list(mercantile.bounds(x, y, z)),
        status=status_of(len(open_alerts), critical, assessment is not None),
        assessment=Assessment(**assessment) if assessment else None,
        sensors=[TileSensor(**s) for s in sensors],
        open_alerts=[Alert(**a) for a in open_alerts],
    )


class TilePlace(BaseModel):
    place: Text = Field(min_length=1, max_length=80, examples=["Mz. C, AA.HH. Villa Hermosa"])


@router.put("/tiles/{z}/{x}/{y}/place", status_code=204, responses=NOT_FOUND)
async def name_tile(
    conn: ConnDep,
    principal: Annotated[Principal, allowed(Action.MANAGE_SENSORS)],
    z: TileZoomPath,
    x: TileXPath,
    y: TileYPath,
    body: TilePlace,
) -> Response:
    """Name a block as its neighbours do; the page, messages and reports use it instead of the tile id."""
    if x >= 2**z or y >= 2**z:
        raise HTTPException(404, f"tile {z}/{x}/{y} is outside the grid")
    tile_id = f"{z}/{x}/{y}"
    await _known_tile(conn, tile_id, principal)
    await repo.name_tile(conn, tile_id=tile_id, place=body.place.strip())
    return Response(status_code=204)


PRIORITY_DOC = (priorities.__doc__ or "").split("\n\n", 1)[-1]


async def _ranked(
    conn: ConnDep, principal: Principal, settings: SettingsDep, district: str | None, days: int, language: str = "en"
) -> list[priorities.Ranked]:
    if district is not None and not principal.sees(district):
        raise HTTPException(404, f"district {district!r} has neither sensors nor imagery")
    end = datetime.now(UTC)
    scope = [district] if district else principal.districts()
    tiles, spans = await repo.priority_inputs(
        conn, districts=scope, start=end - timedelta(days=days), end=end, zoom=settings.tile_zoom
    )
    by_tile: dict[str, list[priorities.AlertSpan]] = {}
    for s in spans:
        by_tile.setdefault(s["tile_id"], []).append(
            priorities.AlertSpan(  # the rule named as people read it, in the language asked for
                rule=s[f"title_{language}"] or s["rule"],
                severity=s["severity"],
                hours=float(s["hours"]),
                open=s["open"],
            )
        )
    facts = [
        priorities.TileFacts(
            t["tile_id"], t["district"], t["housing_score"], t["land_use_class"], by_tile.get(t["tile_id"], ())
        )
        for t in tiles
    ]
    return priorities.rank(facts, language)


Days = Annotated[int, Query(ge=1, le=366, description="the period alerts are counted over, ending now")]
Language = Annotated[Literal["es", "en"], Query(description="the language each row's `why` is written in")]


@router.get("/priorities/tiles", response_model=list[PriorityRow], description=PRIORITY_DOC, responses=NOT_FOUND)
async def tile_priorities(
    conn: ConnDep,
    principal: Reader,
    settings: SettingsDep,
    district: DistrictQuery = None,
    days: Days = 30,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    lang: Language = "en",
) -> list[PriorityRow]:
    ranked = (await _ranked(conn, principal, settings, district, days, lang))[:limit]
    places = await repo.tile_places(conn, tile_ids=[r.tile_id for r in ranked])
    return [PriorityRow(**vars(r), place=places.get(r.tile_id, "")) for r in ranked]


@router.get("/priorities/districts", response_model=list[DistrictPriority], description=PRIORITY_DOC)
async def district_priorities(
    conn: ConnDep, principal: Reader, settings: SettingsDep, days: Days = 30
) -> list[DistrictPriority]:
    """Districts by the mean index of their three worst tiles."""
    ranked = await _ranked(conn, principal, settings, None, days)
    return [DistrictPriority(**vars(d)) for d in priorities.rank_districts(ranked)]


@router.get(
    "/districts/{district}/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}, **NOT_FOUND},
)
async def district_report(
    conn: ConnDep,
    principal: Reader,
    settings: SettingsDep,
    district: DistrictPath,
    days: Days = 30,
    format: Literal["html", "pdf"] = "html",
    lang: Literal["es", "en"] = "es",
) -> Response:
    """The district over the period, in Spanish or English: alerts per day, sensor uptime, housing scores, top
    priorities, the service-continuity evidence and the running semester's indicators beside the tolerances."""
    await visible_district(conn, district, principal)
    end = datetime.now(UTC)
    start = end - timedelta(days=days)
    inputs = await repo.report_inputs(conn, district=district, start=start, end=end, zoom=settings.tile_zoom)
    ranked = await _ranked(conn, principal, settings, district, days, lang)
    continuity = await evidence.period(conn, district, start, end)
    half = await evidence.semester_figures(conn, district, semester.semester_of(end, evidence.LIMA), end)
    gaps = await evidence.coverage_gaps(
        conn, district, imagery_zoom=settings.imagery_zoom, tile_zoom=settings.tile_zoom
    )
    named = {r.tile_id for r in ranked[:10]} | {i.tile_id for i in continuity.power.interruptions}
    named |= {p.tile_id for s in (half.power, half.water) for p in s.supply_points}
    places = await repo.tile_places(conn, tile_ids=sorted(named))
    data = report.ReportData(
        district=district, start=start, end=end, priorities=ranked, places=places, continuity=continuity,
        semester=half, gaps=gaps or [], language=lang, **inputs,
    )  # fmt: skip
    if format == "pdf":
        pdf = await asyncio.to_thread(report.to_pdf, data)
        headers = {"Content-Disposition": f'inline; filename="vigia-{district}-{end:%Y%m%d}-{lang}.pdf"'}
        return Response(pdf, media_type="application/pdf", headers=headers)
    return HTMLResponse(await asyncio.to_thread(report.to_html, data))
