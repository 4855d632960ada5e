"""Assessments on demand: one image in over HTTP, the served model's reading of it out, nothing stored.

The API's `POST /assess` forwards the image here, so the model lives in one process:
the one that already follows the registry's promotions. One image is assessed at a
time, beside the batches (ONNX Runtime sessions may run from several threads), and a
model being replaced waits for the image in hand. The port listens on `bind_host` only
and asks for no key: the API in front of it checks who may assess.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from inference.assessor import Assessor
from vigia.contracts import ClassShare, ImageAssessment
from vigia.images import MAX_BYTES, ImageError
from vigia.settings import Settings


class ServedModel:
    """The assessor being served, swapped only while no image is being assessed with it."""

    def __init__(self) -> None:
        self.assessor: Assessor | None = None
        self._in_use = threading.Lock()

    def swap(self, fresh: Assessor) -> Assessor | None:
        """Serve `fresh` from now on; returns the one it replaces, no longer in use."""
        with self._in_use:
            old, self.assessor = self.assessor, fresh
        return old

    def assess_one(self, data: bytes) -> ImageAssessment:
        """Raises ImageError for an image the model cannot use, LookupError while no model is loaded."""
        with self._in_use:
            if self.assessor is None:
                raise LookupError("no model loaded yet")
            [result] = self.assessor.assess([data])
        if isinstance(result, ImageError):
            raise result
        return ImageAssessment(
            land_use_class=result.land_use_class,
            class_probability=result.class_probability,
            housing_score=result.housing_score,
            top_classes=[ClassShare(land_use_class=c, probability=p) for c, p in result.top_classes],
            features=result.features.as_dict(),
            model_version=result.model_version,
        )


def create_app(model: ServedModel) -> FastAPI:
    app = FastAPI(title="Vigía inference", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/assess")
    async def assess(request: Request) -> JSONResponse:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                return refused(ImageError("too_large", f"more than {MAX_BYTES:,} bytes"))
        try:
            answer = await asyncio.to_thread(model.assess_one, bytes(body))
        except ImageError as error:
            return refused(error)
        except LookupError as error:
            return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})
        return JSONResponse(answer.model_dump(mode="json"))

    return app


def refused(error: ImageError) -> JSONResponse:
    status = 413 if error.reason == "too_large" else 422
    return JSONResponse({"detail": str(error), "reason": error.reason}, status_code=status)


class QuietServer(uvicorn.Server):
    """Leaves SIGTERM and SIGINT to the worker, which stops the server with everything else."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server(settings: Settings, model: ServedModel) -> QuietServer:
    config = uvicorn.Config(
        create_app(model), host=settings.bind_host, port=settings.inference_port, log_level="warning",
        lifespan="off", access_log=False,
    )  # fmt: skip
    return QuietServer(config)
