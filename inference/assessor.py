"""Images in, assessments out: the model behind the worker, the API upload and the benchmark.

A batch is split into as many lanes as the assessor has threads. Each lane decodes,
checks and describes its share of the images and runs the network on them with ONNX
Runtime on its own thread, all lanes at once through one session (`session.run` may be
called from several threads). One thread per lane needs no hand-off between the network's
threads within an operator, so two lanes run the network about a tenth faster than two
threads inside one run, and while one lane decodes the other computes. OpenCV and ONNX
Runtime release the GIL, so threads are enough; the number of lanes is the cap that keeps
inference from starving the stream worker on the same machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

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


def lane_slices(count: int, lanes: int) -> list[slice]:
    """`count` items in at most `lanes` runs, in order, their sizes differing by at most one; none empty."""
    runs = min(max(1, lanes), count)
    if runs == 0:
        return []
    size, extra = divmod(count, runs)
    bounds, start = [], 0
    for lane in range(runs):
        end = start + size + (1 if lane < extra else 0)
        bounds.append(slice(start, end))
        start = end
    return bounds


class Assessor:
    def __init__(
        self, net: TileNet, info: modelfile.ModelInfo, *, threads: int = 1, int8_graph: bytes | None = None
    ) -> None:
        torch.set_num_threads(threads)
        cv2.setNumThreads(1)  # parallelism comes from the lanes, not from inside each call
        self.info = info
        self.lanes = max(1, threads)
        self.network = OnnxForward(
            modelfile.fuse_for_inference(net), input_size=info.input_size, threads=1, graph=int8_graph
        )
        self.weights = class_weights(info.classes, info.housing_weights)
        self._pool = ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix="tile-lane")

    @classmethod
    def from_file(cls, path: Path = DEFAULT_MODEL, *, threads: int = 1, int8: bool = True) -> Assessor:
        """The model in a file; with `int8`, served by the INT8 graph kept beside it for these
        weights, if `vigia model quantize` kept one (see `quantize.py`)."""
        net, info = modelfile.load(path)
        return cls(net, info, threads=threads, int8_graph=served_graph(path, info.version) if int8 else None)

    @property
    def precision(self) -> str:
        return self.network.precision

    @property
    def version(self) -> str:
        return self.info.version

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def forward(self, images: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Class probabilities and embeddings of a (N, S, S, 3) uint8 batch, its lanes run at once."""
        runs = list(self._pool.map(self.network, [images[run] for run in lane_slices(len(images), self.lanes)]))
        if not runs:
            return self.network(images)
        return np.concatenate([r[0] for r in runs]), np.concatenate([r[1] for r in runs])

    def prepare(self, data: bytes) -> Prepared:
        """Decode, check, resize and describe one image. Raises ImageError for what cannot be used."""
        rgb = decode(data)
        return Prepared(prepare(rgb, self.info.input_size), features(rgb))

    def assess(self, batch: Sequence[bytes]) -> list[Assessment | ImageError]:
        """One result per image, in order: an assessment, or the reason the image was refused."""
        runs = [batch[run] for run in lane_slices(len(batch), self.lanes)]
        return [result for found in self._pool.map(self._assess_lane, runs) for result in found]

    def _assess_lane(self, images: Sequence[bytes]) -> list[Assessment | ImageError]:
        prepared: list[Prepared | ImageError] = []
        for data in images:
            try:
                prepared.append(self.prepare(data))
            except ImageError as error:
                prepared.append(error)
        good = [p for p in prepared if isinstance(p, Prepared)]
        assessed = iter(self._assessments(good) if good else [])
        return [next(assessed) if isinstance(p, Prepared) else p for p in prepared]

    def _assessments(self, prepared: Sequence[Prepared]) -> list[Assessment]:
        """The network on this lane's good images, on this thread."""
        probabilities, embeddings = self.network(np.stack([p.image for p in prepared]))
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
