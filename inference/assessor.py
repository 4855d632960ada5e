"""Images in, assessments out: the model behind the worker, the API upload and the benchmark.

Decoding and the OpenCV features run on a small thread pool while the network runs on its
own capped threads (ONNX Runtime, see `runtime.py`), one batch ahead, so the forward pass
is rarely left waiting for its input. Both release the GIL, so threads are enough; the cap
on threads is what keeps inference from starving the stream worker on the same machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from inference import modelfile
from inference.housing import class_weights, housing_scores
from inference.model import TileNet
from inference.preprocess import TileFeatures, features, prepare
from inference.quantize import served_graph
from inference.runtime import OnnxForward
from vigia.images import RGB, ImageError, decode

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default.pt"


@dataclass(frozen=True)
class Prepared:
    image: RGB  # at the model's input size
    features: TileFeatures


@dataclass(frozen=True)
class Assessment:
    land_use_class: str
    class_probability: float
    housing_score: float
    embedding: list[float]
    features: TileFeatures
    model_version: str
    top_classes: list[tuple[str, float]]


class Assessor:
    def __init__(
        self, net: TileNet, info: modelfile.ModelInfo, *, threads: int = 1, int8_graph: bytes | None = None
    ) -> None:
        torch.set_num_threads(threads)
        cv2.setNumThreads(1)  # parallelism comes from the pool, not from inside each call
        self.info = info
        self.forward = OnnxForward(
            modelfile.fuse_for_inference(net), input_size=info.input_size, threads=threads, graph=int8_graph
        )
        self.weights = class_weights(info.classes, info.housing_weights)
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="tile-prep")
        self._ahead = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="tile-batch"
        )  # feeds _pool, never waits in it

    @classmethod
    def from_file(cls, path: Path = DEFAULT_MODEL, *, threads: int = 1, int8: bool = True) -> Assessor:
        """The model in a file; with `int8`, served by the INT8 graph kept beside it for these
        weights, if `vigia model quantize` kept one (see `quantize.py`)."""
        net, info = modelfile.load(path)
        return cls(net, info, threads=threads, int8_graph=served_graph(path, info.version) if int8 else None)

    @property
    def precision(self) -> str:
        return self.forward.precision

    @property
    def version(self) -> str:
        return self.info.version

    def close(self) -> None:
        self._ahead.shutdown(wait=True)
        self._pool.shutdown(wait=True)

    def prepare(self, data: bytes) -> Prepared:
        """Decode, check, resize and describe one image. Raises ImageError for what cannot be used."""
        rgb = decode(data)
        return Prepared(prepare(rgb, self.info.input_size), features(rgb))

    def assess_prepared(self, prepared: Sequence[Prepared]) -> list[Assessment]:
        if not prepared:
            return []
        probabilities, embeddings = self.forward(np.stack([p.image for p in prepared]))
        scores = housing_scores(probabilities, self.weights)
        results = []
        rounded = np.round(embeddings.astype(np.float64), 6).tolist()  # a tenth of the time of round() per value
        for p, probs, embedding, score in zip(prepared, probabilities, rounded, scores, strict=True):
            order = np.argsort(probs)[::-1][:3]
            results.append(
                Assessment(
                    land_use_class=self.info.classes[int(order[0])],
                    class_probability=round(float(probs[order[0]]), 4),
                    housing_score=round(float(score), 4),
                    embedding=embedding,
                    features=p.features,
                    model_version=self.info.version,
                    top_classes=[(self.info.classes[int(i)], round(float(probs[i]), 4)) for i in order],
                )
            )
        return results

    def _prepare_all(self, batch: Sequence[bytes]) -> list[Prepared | ImageError]:
        def one(data: bytes) -> Prepared | ImageError:
            try:
                return self.prepare(data)
            except ImageError as error:
                return error

        return list(self._pool.map(one, batch))

    def assess(self, batch: Sequence[bytes]) -> list[Assessment | ImageError]:
        """One result per image, in order: an assessment, or the reason the image was refused."""
        return self._merge(self._prepare_all(batch))

    def assess_stream(self, batches: Iterable[Sequence[bytes]]) -> Iterator[list[Assessment | ImageError]]:
        """Like `assess` per batch, preparing the next batch while the model runs on this one."""
        ahead: Future[list[Prepared | ImageError]] | None = None
        for batch in batches:
            current = self._ahead.submit(self._prepare_all, batch)
            if ahead is not None:
                yield self._merge(ahead.result())
            ahead = current
        if ahead is not None:
            yield self._merge(ahead.result())

    def _merge(self, prepared: list[Prepared | ImageError]) -> list[Assessment | ImageError]:
        good = [p for p in prepared if isinstance(p, Prepared)]
        assessed = iter(self.assess_prepared(good))
        return [next(assessed) if isinstance(p, Prepared) else p for p in prepared]
