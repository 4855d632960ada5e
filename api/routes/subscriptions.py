"""Subscriptions: who is told of alerts in a district, how, and the log of what was sent."""

from __future__ import annotations

import secrets
from datetime import datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field, model_validator

from api import repo, targets
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
    channel: str = Field(
        "webhook",
        pattern=r"^[a-z][a-z0-9-]{1,30}$",
        description="`sms` (through Kannel), `webhook`, `log` (the notifier's message log), `apprise` (the"
        " target is a whole Apprise URL), or a channel configured in VIGIA_APPRISE_URLS (`whatsapp`, `email`...)",
    )
    target: Text = Field(
        min_length=1, max_length=500,
        description="a phone number for `sms`/`whatsapp` (stored in E.164; a number without a country code is"
        " Peruvian), an address for `email`, a URL for `webhook`, the recipient's label for `log`",
        examples=["+51987654321", "https://junta-mz-c.example.org/vigia"],
    )  # fmt: skip
    language: Literal["es", "en"] = "es"
    place: Text = Field("", max_length=80, description="how people name the area in messages", examples=["Manzana C"])
    name: Text = Field("", max_length=80, description="who this is; shown as who acknowledged by reply",
                       examples=["Rosa Quispe"])  # fmt: skip
    wait_minutes: int = Field(
        0, ge=0, le=24 * 60,
        description="an escalation step: told of an opening only if nobody acknowledged it within this many minutes",
    )  # fmt: skip
    quiet_from: time | None = Field(None, description="Lima clock; non-critical messages wait until quiet_until")
    quiet_until: time | None = None
    max_per_hour: int = Field(10, ge=1, le=600, description="past this many messages in an hour, one digest")

    @model_validator(mode="after")
    def _quiet_hours_whole(self) -> NewSubscription:
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValueError("quiet_from and quiet_until go together")
        return self


class Subscription(BaseModel):
    subscription_id: str
    district: str
    min_severity: str
    channel: str
    target: str
    language: str
    place: str
    name: str
    wait_minutes: int
    quiet_from: time | None
    quiet_until: time | None
    max_per_hour: int
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
    status: str = Field(examples=["delivered", "pending", "failed", "skipped", "held", "digested"])
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    channel: str | None = Field(description="how it was sent")
    answer: str | None = Field(description="the provider's own words", examples=["0: Accepted for delivery"])
    receipt: str | None = Field(
        description="what the phone network reported: accepted, buffered, delivered, failed, rejected",
        examples=["delivered"],
    )
    receipt_at: datetime | None


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
    """Tell someone of alerts in a district: an SMS, WhatsApp, Telegram or email, a signed webhook, or a line
    in the message log. A number subscribed by SMS may acknowledge the district's alerts by reply."""
    if not principal.sees(body.district):
        raise HTTPException(404, f"district {body.district!r} has no sensors")
    fields = body.model_dump()
    fields["target"] = await targets.checked(
        body.channel, body.target, apprise_urls=settings.apprise_urls, allow_private=settings.webhook_allow_private
    )
    row = await repo.create_subscription(
        conn,
        **fields,
        signing_secret=secrets.token_urlsafe(32),
        created_by=principal.name or principal.key_id,
    )
    return CreatedSubscription(**row)


class Channel(BaseModel):
    channel: str = Field(examples=["sms"])
    target: Literal["phone", "email", "url", "apprise", "label"] = Field(
        description="what the subscription's target is for this channel"
    )


@router.get("/channels", response_model=list[Channel])
async def channels(settings: SettingsDep, principal: Subscriber) -> list[Channel]:
    """The channels this deployment can send on, each with the kind of target it takes, so a form asks for the
    right thing: the built-in ones and those configured in VIGIA_APPRISE_URLS."""
    return [Channel(channel=name, target=targets.kind(name)) for name in targets.channels(settings.apprise_urls)]


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
