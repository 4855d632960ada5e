"""Every message sent about alerts, and whether it reached the person: the delivery log across subscriptions.

Phone numbers and addresses are personal data: shown whole only to those who manage the
district's subscriptions (operators, its leader), masked for everyone else, as is the
provider's answer, which may repeat them.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import Field

from api import repo
from api.access import Action, Principal
from api.deps import ConnDep, allowed
from api.routes.subscriptions import DeliveryRecord
from vigia.phones import mask

router = APIRouter(prefix="/deliveries", tags=["subscriptions"])

Reader = Annotated[Principal, allowed(Action.READ)]


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
