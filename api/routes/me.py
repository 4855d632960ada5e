"""`GET /me`: who the key belongs to and what it may do, so a page offers only the actions it can take."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.access import GRANTS
from api.deps import PrincipalDep

router = APIRouter(tags=["keys"])


class Me(BaseModel):
    role: str = Field(examples=["leader"])
    district: str | None = Field(description="a leader's district; null for the other roles", examples=["sjl"])
    name: str = Field(examples=["Rosa, junta vecinal Mz. C"])
    may: list[str] = Field(description="the actions this key may take", examples=[["read", "acknowledge"]])


@router.get("/me", response_model=Me)
async def me(principal: PrincipalDep) -> Me:
    return Me(
        role=principal.role.value,
        district=principal.district,
        name=principal.name,
        may=sorted(action.value for action in GRANTS[principal.role]),
    )
