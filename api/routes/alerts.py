"""Alerts: list and read them, acknowledge or resolve them by hand, and follow them live."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from api import repo, sse
from api.access import Action, Principal
from api.deps import ConnDep, PoolDep, allowed
from api.live import AlertFeed, Change, event_id, key_of
from api.params import DistrictQuery
from api.schemas import Acknowledgement, Alert, AlertDetail, AlertEvent, Problem
from vigia.contracts import AlertState, Severity

router = APIRouter(prefix="/alerts", tags=["alerts"])

Reader = Annotated[Principal, allowed(Action.READ)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such alert"}}
KEEPALIVE_SECONDS = 15.0


@router.get("", response_model=list[Alert])
async def alerts(
    conn: ConnDep,
    principal: Reader,
    district: DistrictQuery = None,
    severity: Annotated[list[Severity] | None, Query()] = None,
    state: Annotated[list[AlertState] | None, Query()] = None,
    sensor_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")] = None,
    tile_id: Annotated[str | None, Query(max_length=32, pattern=r"^\d{1,2}/\d{1,8}/\d{1,8}$")] = None,
    since: Annotated[datetime | None, Query(description="opened at or after")] = None,
    until: Annotated[datetime | None, Query(description="opened before; the last row's opened_at pages back")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[Alert]:
    """Newest first. Repeat `severity` or `state` to ask for several."""
    rows = await repo.alerts(
        conn,
        districts=principal.districts(),
        district=district,
        severities=[s.value for s in severity] if severity else None,
        states=[s.value for s in state] if state else None,
        sensor_id=sensor_id,
        tile_id=tile_id,
        since=since,
        until=until,
        limit=limit,
    )
    return [Alert(**row) for row in rows]


def _event(change: Change) -> bytes:
    body = {k: v for k, v in change.items() if k != "recorded_at"}
    return sse.event(orjson.dumps(body, option=orjson.OPT_UTC_Z).decode(), name="alert", event_id=event_id(change))


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "one `alert` event per change"}},
)
async def stream(
    request: Request,
    pool: PoolDep,
    principal: Annotated[Principal, allowed(Action.READ, connection=False)],
    last_event_id: Annotated[str | None, Header(description="resume after this event")] = None,
) -> StreamingResponse:
    """New and changed alerts as Server-Sent Events, each carrying the alert as it now stands.

    A client that reconnects with `Last-Event-ID` first receives what it missed.
    """
    resume_after: datetime | None = None
    if last_event_id:
        try:
            resume_after = datetime.fromisoformat(last_event_id)
        except ValueError:
            raise HTTPException(422, "Last-Event-ID is not an id this stream sent") from None
    missed = []
    if resume_after is not None:
        async with pool.connection() as conn:
            missed = await repo.alert_changes(conn, after=resume_after, districts=principal.districts(), limit=5000)
    feed: AlertFeed = request.app.state.alert_feed
    queue = feed.listen()

    async def events() -> AsyncIterator[bytes]:
        try:
            yield sse.event("", name="ready", retry_ms=3000)
            replayed = set()
            for change in missed:
                replayed.add(key_of(change))
                yield _event(change)
            while not await request.is_disconnected():
                try:
                    live = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield sse.KEEPALIVE
                    continue
                if live is None:
                    return  # too far behind: the client reconnects with its Last-Event-ID
                if principal.sees(live["district"]) and key_of(live) not in replayed:
                    yield _event(live)
        finally:
            feed.leave(queue)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def _visible_alert(conn: ConnDep, alert_id: UUID, principal: Principal) -> dict[str, Any]:
    row = await repo.alert(conn, alert_id=alert_id)
    if row is None or not principal.sees(row["district"]):
        raise HTTPException(404, f"alert {alert_id} does not exist")
    return row


@router.get("/{alert_id}", response_model=AlertDetail, responses=NOT_FOUND)
async def alert(conn: ConnDep, principal: Reader, alert_id: UUID) -> AlertDetail:
    """One alert with every change it went through."""
    row = await _visible_alert(conn, alert_id, principal)
    history = await repo.alert_history(conn, alert_id=alert_id)
    return AlertDetail(**row, history=[AlertEvent(**h) for h in history])


async def _change(conn: ConnDep, principal: Principal, alert_id: UUID, change: str, note: str) -> Alert:
    await _visible_alert(conn, alert_id, principal)
    row = await repo.change_alert(
        conn, alert_id=alert_id, change=change, by=principal.name or principal.key_id, note=note
    )
    if row is None:
        current = await repo.alert(conn, alert_id=alert_id)
        state = current["state"] if current else "gone"
        raise HTTPException(409, f"alert {alert_id} is {state}; it cannot be {change}")
    return Alert(**row)


CONFLICT: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"model": Problem, "description": "the alert is not in a state this applies to"},
}


@router.post("/{alert_id}/acknowledge", response_model=Alert, responses=CONFLICT)
async def acknowledge(
    conn: ConnDep,
    alert_id: UUID,
    body: Acknowledgement,
    principal: Annotated[Principal, allowed(Action.ACKNOWLEDGE)],
) -> Alert:
    """Someone is on it: stops reminders, and tells subscribers, with the note."""
    return await _change(conn, principal, alert_id, "acknowledged", body.note)


@router.post("/{alert_id}/resolve", response_model=Alert, responses=CONFLICT)
async def resolve(
    conn: ConnDep,
    alert_id: UUID,
    body: Acknowledgement,
    principal: Annotated[Principal, allowed(Action.RESOLVE)],
) -> Alert:
    """Close an alert by hand (a sensor removed, a false alarm checked on site); the note says why."""
    return await _change(conn, principal, alert_id, "resolved", body.note)
