"""Assess: one image in, the model's reading of it out, at once and without storing anything.

For a planner checking a photo or a drone tile before it is queued. The model is the
registry's active one (the shipped default on a fresh registry), loaded on the first
request; one image is assessed at a time so the API's own latency is not held hostage
by the network's threads.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import psycopg
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from api.access import Action, Principal
from api.deps import SettingsDep, allowed
from api.routes.imagery import image_refused, read_image, refuse_before_reading
from api.schemas import Problem
from inference.assessor import Assessment, Assessor
from inference.preprocess import ImageError
from vigia.settings import Settings

router = APIRouter(tags=["imagery"])


class ClassShare(BaseModel):
    land_use_class: str = Field(examples=["denseresidential"])
    probability: float = Field(examples=[0.82])


class AssessmentOut(BaseModel):
    land_use_class: str = Field(examples=["denseresidential"])
    class_probability: float = Field(examples=[0.82])
    housing_score: float = Field(description="0 sound housing, 1 precarious", examples=[0.64])
    top_classes: list[ClassShare]
    features: dict[str, float] = Field(examples=[{"built_up_fraction": 0.37, "vegetation_fraction": 0.05}])
    model_version: str = Field(examples=["tilenet-20261120-3f2a"])


class Model:
    """The assessor, loaded once, used by one request at a time."""

    def __init__(self) -> None:
        self._assessor: Assessor | None = None
        self._lock = asyncio.Lock()

    def _load(self, settings: Settings) -> Assessor:
        from inference.worker import ensure_model

        if settings.model_path is not None:
            return Assessor.from_file(settings.model_path, threads=settings.inference_threads)
        with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
            _, path = ensure_model(conn)
        return Assessor.from_file(path, threads=settings.inference_threads)

    async def assess(self, settings: Settings, data: bytes) -> Assessment:
        async with self._lock:
            if self._assessor is None:
                self._assessor = await asyncio.to_thread(self._load, settings)
            [result] = await asyncio.to_thread(self._assessor.assess, [data])
        if isinstance(result, ImageError):
            raise result
        return result


@router.post(
    "/assess",
    response_model=AssessmentOut,
    responses={
        413: {"model": Problem, "description": "the image is larger than the limit"},
        415: {"model": Problem, "description": "not a PNG, JPEG or TIFF"},
        422: {"model": Problem, "description": "unreadable image, or the wrong depth, bands or size"},
    },
)
async def assess(
    request: Request, settings: SettingsDep, principal: Annotated[Principal, allowed(Action.ASSESS)]
) -> AssessmentOut:
    """Assess one image sent as the body (image/png, image/jpeg or image/tiff)."""
    refuse_before_reading(request)
    data = await read_image(request)
    model: Model = request.app.state.model
    try:
        result = await model.assess(settings, data)
    except ImageError as error:
        raise image_refused(error) from error
    except (psycopg.Error, OSError) as error:
        raise HTTPException(503, "the model registry is not reachable; try again shortly") from error
    return AssessmentOut(
        land_use_class=result.land_use_class,
        class_probability=result.class_probability,
        housing_score=result.housing_score,
        top_classes=[ClassShare(land_use_class=c, probability=p) for c, p in result.top_classes],
        features=result.features.as_dict(),
        model_version=result.model_version,
    )
