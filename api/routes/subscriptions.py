"""Subscriptions: who is told of alerts in a district, how, and the log of what was sent."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
import socket
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from api import repo
from api.access import Action, Principal
from api.deps import ConnDep, SettingsDep, allowed
from api.params import DISTRICT_EXAMPLE
from api.schemas import Problem, Text
from vigia.contracts import DistrictSlug

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])

Subscriber = Annotated[Principal, allowed(Action.SUBSCRIBE)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such subscription"}}


class NewSubscription(BaseModel):
    district: DistrictSlug = Field(examples=[DISTRICT_EXAMPLE])
    min_severity: Literal["info", "warning", "critical"] = "warning"
    channel: Literal["webhook", "log"] = Field("webhook", description="`log` writes to the notifier's message log")
    target: Text = Field(
        min_length=1, max_length=500, description="the webhook URL, or the recipient's label for `log`",
        examples=["https://junta-mz-c.example.org/vigia"],
    )  # fmt: skip
    language: Literal["es", "en"] = "es"
    place: Text = Field("", max_length=80, description="how people name the area in messages", examples=["Manzana C"])


class Subscription(BaseModel):
    subscription_id: str
    district: str
    min_severity: str
    channel: str
    target: str
    language: str
    place: str
    created_by: str
    created_at: datetime


class CreatedSubscription(Subscription):
    signing_secret: str = Field(description="verifies the X-Vigia-Signature of each webhook; shown only now")


class DeliveryRecord(BaseModel):
    delivery_id: int
    alert_id: str
    change: str = Field(examples=["opened", "reminder"])
    event_time: datetime
    message: str = Field(examples=["URGENTE: Sin agua en Manzana C desde las 14:10."])
    status: str = Field(examples=["delivered", "pending", "failed"])
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


async def check_webhook(url: str, *, allow_private: bool) -> None:
    """Refuse what is not an http(s) URL, and, unless allowed, hosts on loopback or private networks.

    Without the second check a subscriber could make the notifier probe the internal network.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise HTTPException(422, "target: a webhook target must be an http or https URL")
    if allow_private:
        return
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, parts.hostname, parts.port or 443)
    except OSError:
        raise HTTPException(422, f"target: the host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise HTTPException(422, f"target: {parts.hostname!r} is not a public address")


async def _visible(conn: ConnDep, subscription_id: UUID, principal: Principal) -> dict[str, Any]:
    row = await repo.subscription(conn, subscription_id=subscription_id)
    if row is None or not principal.sees(row["district"]):
        raise HTTPException(404, f"subscription {subscription_id} does not exist")
    return row


@router.post(
    "",
    status_code=201,
    response_model=CreatedSubscription,
    responses={404: {"model": Problem, "description": "a leader subscribing to another district"}},
)
async def subscribe(
    conn: ConnDep, settings: SettingsDep, principal: Subscriber, body: NewSubscription
) -> CreatedSubscription:
    """Tell someone of alerts in a district: a signed webhook, or a line in the message log."""
    if not principal.sees(body.district):
        raise HTTPException(404, f"district {body.district!r} has no sensors")
    if body.channel == "webhook":
        await check_webhook(body.target, allow_private=settings.webhook_allow_private)
    row = await repo.create_subscription(
        conn,
        **body.model_dump(),
        signing_secret=secrets.token_urlsafe(32),
        created_by=principal.name or principal.key_id,
    )
    return CreatedSubscription(**row)


@router.get("", response_model=list[Subscription])
async def subscriptions(conn: ConnDep, principal: Subscriber) -> list[Subscription]:
    return [Subscription(**row) for row in await repo.subscriptions(conn, districts=principal.districts())]


@router.delete("/{subscription_id}", status_code=204, responses=NOT_FOUND)
async def unsubscribe(conn: ConnDep, principal: Subscriber, subscription_id: UUID) -> Response:
    await _visible(conn, subscription_id, principal)
    await repo.delete_subscription(conn, subscription_id=subscription_id)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", response_model=list[DeliveryRecord], responses=NOT_FOUND)
async def deliveries(
    conn: ConnDep,
    principal: Subscriber,
    subscription_id: UUID,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRecord]:
    """The delivery log, newest first: each message, its attempts, the receiver's last answer."""
    await _visible(conn, subscription_id, principal)
    rows = await repo.deliveries(conn, subscription_id=subscription_id, limit=limit)
    return [DeliveryRecord(**row) for row in rows]
