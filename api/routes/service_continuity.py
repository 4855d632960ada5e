"""A district's service continuity as the regulators count it, the programmed cuts and the tolerances operators
record. `api/evidence.py` gathers the figures; here they are asked for and recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from api import evidence, repo, semester
from api.access import Action, Principal
from api.continuity_models import Continuity, Cut, CutIn, SemesterEvidence, Tolerance, ToleranceIn
from api.deps import ConnDep, allowed, period
from api.params import DistrictPath
from api.routes.places import NOT_FOUND, Reader, visible_district

router = APIRouter(tags=["places"])
Announcer = Annotated[Principal, allowed(Action.ANNOUNCE)]


@router.get("/districts/{district}/continuity", response_model=Continuity, responses=NOT_FOUND)
async def district_continuity(
    conn: ConnDep,
    principal: Reader,
    district: DistrictPath,
    start: Annotated[datetime | None, Query(description="default: end minus 30 days")] = None,
    end: Annotated[datetime | None, Query(description="default: now")] = None,
) -> Continuity:
    """Every power interruption of 3 minutes or more and every water outage of 30 minutes or more.

    Counted per sensor from one-minute windows, as the NTCSE counts interruptions; power
    interruptions over 4 consecutive hours are flagged compensable (D.L. 25844, art. 86)
    unless an operator recorded them as programmed and announced 48 hours ahead. Time a
    sensor was silent inside an interruption is reported apart, as weaker evidence. Water
    is also given as hours of supply a day (Lima days), as SUNASS reports continuity.
    """
    await visible_district(conn, district, principal)
    start, end = period(start, end, timedelta(days=30))
    return await evidence.period(conn, district, start, end)


@router.get("/districts/{district}/continuity/semester", response_model=SemesterEvidence, responses=NOT_FOUND)
async def semester_continuity(
    conn: ConnDep,
    principal: Reader,
    district: DistrictPath,
    label: Annotated[
        str | None, Query(alias="semester", description="`2026-I` (January to June) or `2026-II`; default: now")
    ] = None,
) -> SemesterEvidence:
    """The NTCSE's indicators over a six-month control period: each sensor's number (N) and hours (D) of
    counted interruptions, as one supply point, beside the tolerance an operator set for the district.
    Programmed cuts announced 48 hours ahead are not counted, as in the period's evidence."""
    await visible_district(conn, district, principal)
    now = datetime.now(UTC)
    try:
        chosen = semester.parse(label, evidence.LIMA) if label else semester.semester_of(now, evidence.LIMA)
    except semester.SemesterError as error:
        raise HTTPException(422, str(error)) from None
    if chosen.start >= now:
        raise HTTPException(422, f"semester {chosen.label} has not begun")
    return await evidence.semester_figures(conn, district, chosen, now)


@router.put("/districts/{district}/tolerances/{service}", response_model=Tolerance, responses=NOT_FOUND)
async def set_tolerance(
    conn: ConnDep,
    principal: Announcer,
    district: DistrictPath,
    service: Annotated[Literal["power", "water"], Path()],
    body: ToleranceIn,
) -> Tolerance:
    """Set the most interruptions (N) and hours (D) a supply point may have in a semester. The NTCSE's numbers
    depend on the supply level (D.S. N° 020-97-EM) and have been revised: the operator sets the ones in force."""
    await visible_district(conn, district, principal)
    row = await repo.set_tolerance(
        conn, district=district, service=service, interruptions=body.interruptions, hours=body.hours,
        by=principal.name or principal.key_id,
    )  # fmt: skip
    return Tolerance(**row)


@router.post("/districts/{district}/cuts", response_model=Cut, status_code=201, responses=NOT_FOUND)
async def record_cut(
    conn: ConnDep,
    principal: Announcer,
    district: DistrictPath,
    body: CutIn,
) -> Cut:
    """Record a programmed cut and when it was announced; one announced 48 hours ahead stops counting."""
    await visible_district(conn, district, principal)
    if body.ends_at <= body.starts_at:
        raise HTTPException(422, "ends_at must be after starts_at")
    if body.announced_at > body.starts_at:
        raise HTTPException(422, "a cut announced after it began was not announced")
    row = await repo.record_cut(conn, district=district, cut=body.model_dump(), by=principal.name or principal.key_id)
    return Cut(**row)
