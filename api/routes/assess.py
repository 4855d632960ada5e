"""Assess: one image in, the model's reading of it out, at once and without storing anything.

For a planner checking a photo or a drone tile before it is queued. The inference worker
serves the registry's active model and answers on-demand assessments on its own port;
this route checks who asks and what they send, and passes the image on, so the model is
loaded in one process only and a promotion reaches both kinds of assessment together.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, HTTPException, Request

from api.access import Action, Principal
from api.deps import SettingsDep, allowed
from api.routes.imagery import read_image, refuse_before_reading
from api.schemas import Problem
from vigia.contracts import ImageAssessment

router = APIRouter(tags=["imagery"])
TIMEOUT = httpx.Timeout(30.0, connect=3.0)  # a large image takes a few seconds on two busy cores


@router.post(
    "/assess",
    response_model=ImageAssessment,
    responses={
        413: {"model": Problem, "description": "the image is larger than the limit"},
        415: {"model": Problem, "description": "not a PNG, JPEG or TIFF"},
        422: {"model": Problem, "description": "unreadable image, or the wrong depth, bands or size"},
        503: {"model": Problem, "description": "the model is not being served; try again shortly"},
    },
)
async def assess(
    request: Request, settings: SettingsDep, principal: Annotated[Principal, allowed(Action.ASSESS)]
) -> ImageAssessment:
    """Assess one image sent as the body (image/png, image/jpeg or image/tiff)."""
    refuse_before_reading(request)
    data = await read_image(request)
    inference: httpx.AsyncClient = request.app.state.inference
    try:
        answer = await inference.post(settings.assess_url, content=data)
    except httpx.HTTPError as error:
        raise HTTPException(503, "the model is not being served right now; try again shortly") from error
    if answer.status_code in (413, 422):
        raise HTTPException(answer.status_code, str(answer.json().get("detail", "the image was refused")))
    if answer.status_code != 200:
        raise HTTPException(503, "the model is not being served right now; try again shortly")
    return ImageAssessment.model_validate_json(answer.content)
