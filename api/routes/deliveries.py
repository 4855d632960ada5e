"""Every message sent about alerts, and whether it reached the person: the delivery log across subscriptions.

Phone numbers and addresses are personal data: shown whole only to those who manage the
district's subscriptions (operators, its leader), masked for everyone else, as is the
provider's answer, which may repeat them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from api import repo
from api.access import Action, Principal
from api.deps import ConnDep, allowed
from api.routes.subscriptions import DeliveryRecord
from api.schemas import Problem
from vigia.phones import mask

router = APIRouter(prefix="/deliveries", tags=["subscriptions"])

Reader = Annotated[Principal, allowed(Action.READ)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "no such delivery"}}


class SentDelivery(DeliveryRecord):
    subscription_id: str
    district: str
    name: str = Field(examples=["Rosa Quispe"])
    to: str = Field(description="the number, address or URL; masked unless you manage subscriptions",
                    examples=["+51*****4321"])  # fmt: skip


@router.get("", response_model=list[SentDelivery])
async def deliveries(
    conn: ConnDep,
    principal: Reader,
    alert_id: Annotated[UUID | None, Query(description="only the messages about this alert")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[SentDelivery]:
    """Messages about alerts, newest first: to whom, how, the provider's answer and the phone network's receipt."""
    whole = principal.may(Action.SUBSCRIBE)
    rows = await repo.district_deliveries(conn, districts=principal.districts(), alert_id=alert_id, limit=limit)
    out = []
    for row in rows:
        target = row.pop("target")
        row["channel"] = row["channel"] or row.pop("subscription_channel")
        row.pop("subscription_channel", None)
        if not whole:
            row["answer"] = None
        out.append(SentDelivery(**row, to=target if whole else mask(target)))
    return out


class Attempt(BaseModel):
    attempted_at: datetime
    channel: str = Field(examples=["sms"])
    delivered: bool
    status: int | None = Field(description="the provider's HTTP status, where there is one", examples=[202])
    answer: str | None = Field(description="the provider's words, or why it failed; only for those who manage "
                               "subscriptions", examples=["0: Accepted for delivery"])  # fmt: skip


@router.get("/{delivery_id}/attempts", response_model=list[Attempt], responses=NOT_FOUND)
async def attempts(
    conn: ConnDep, principal: Reader, delivery_id: Annotated[int, Path(ge=1, le=2**62)]
) -> list[Attempt]:
    """Every attempt at one delivery, oldest first: when, how, and what the provider said."""
    rows = await repo.delivery_attempts(conn, delivery_id=delivery_id, districts=principal.districts())
    if rows is None:
        raise HTTPException(404, f"delivery {delivery_id} does not exist")
    whole = principal.may(Action.SUBSCRIBE)
    return [Attempt(**{**row, "answer": row["answer"] if whole else None}) for row in rows]
