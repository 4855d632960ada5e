"""INT8 serving: the model's ONNX graph quantized statically, kept only if it judges as well.

Static quantization (ONNX Runtime's QDQ format, weights per channel) needs the ranges of
every activation, measured on real tiles: a sample of the training split is the calibration
set. The quantized graph is then judged against the full-precision one on the validation
split, and written beside the model file only when its housing macro-F1 is at most
`MAX_F1_DROP` lower; a sidecar records both figures and the model version it was made from,
so a graph never serves another model's weights. On CPUs with 8-bit dot products (VNNI)
it runs the forward pass about twice as fast (`make bench-inference`).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from inference import dataset, modelfile
from inference.metrics import evaluate
from inference.runtime import export, session

MAX_F1_DROP = 0.005
CALIBRATION_TILES = 128
BATCH = 16


class QuantizeError(ValueError):
    """Quantization could not be judged: too few tiles, or a model the tiles do not fit."""


@dataclass(frozen=True)
class Verdict:
    model_version: str
    fp32_housing_f1: float
    int8_housing_f1: float
    validation_tiles: int
    calibration_tiles: int

    @property
    def drop(self) -> float:
        return self.fp32_housing_f1 - self.int8_housing_f1

    @property
    def kept(self) -> bool:
        return self.drop <= MAX_F1_DROP


def graph_path(model: Path) -> Path:
    return model.with_name(f"{model.stem}.int8.onnx")


def verdict_path(model: Path) -> Path:
    return model.with_name(f"{model.stem}.int8.json")


class _Batches(CalibrationDataReader):  # type: ignore[misc]  # onnxruntime ships no type hints
    def __init__(self, images: NDArray[np.uint8]) -> None:
        self._batches = iter([{"images": images[i : i + BATCH]} for i in range(0, len(images), BATCH)])

    def get_next(self) -> dict[str, NDArray[np.uint8]] | None:
        return next(self._batches, None)


def quantize(graph: bytes, calibration: NDArray[np.uint8]) -> bytes:
    """The graph in INT8 (QDQ, per-channel weights, unsigned activations), ranges from `calibration`."""
    with tempfile.TemporaryDirectory() as tmp:
        fp32, prepared, int8 = Path(tmp, "fp32.onnx"), Path(tmp, "prepared.onnx"), Path(tmp, "int8.onnx")
        fp32.write_bytes(graph)
        quant_pre_process(str(fp32), str(prepared))  # shapes inferred and graph folded first, as ONNX Runtime advises
        quantize_static(
            str(prepared), str(int8), _Batches(calibration), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
        )  # fmt: skip
        return int8.read_bytes()


def probabilities(graph: bytes, images: NDArray[np.uint8], threads: int) -> NDArray[np.float32]:
    run = session(graph, threads)
    return np.concatenate([run.run(None, {"images": images[i : i + BATCH]})[0] for i in range(0, len(images), BATCH)])


def build(
    model: Path, folder: Path, *, calibration_tiles: int = CALIBRATION_TILES, threads: int = 2
) -> tuple[Verdict, bytes]:
    """Quantize `model`, calibrated on its training split of `folder`, judged on its validation split."""
    net, info = modelfile.load(model)
    tiles = dataset.scan(folder, classes=info.classes)
    train, validation, _ = dataset.split(tiles, 0.15, 0.15)
    if len(train) < BATCH or not validation:
        raise QuantizeError(f"{folder} holds too few tiles to calibrate and judge on ({len(tiles.tiles)})")
    chosen = np.random.default_rng(0).choice(len(train), min(calibration_tiles, len(train)), replace=False)
    calibration, _ = dataset.load([train[int(i)] for i in chosen])
    images, labels = dataset.load(validation)
    size = info.input_size
    graph, _, _ = export(modelfile.fuse_for_inference(net), size)
    int8 = quantize(graph, dataset.fit(calibration, size))
    housing = [name for name, weight in info.housing_weights.items() if weight > 0]
    ready = dataset.fit(images, size)

    def housing_f1(candidate: bytes) -> float:
        predicted = probabilities(candidate, ready, threads).argmax(axis=1).tolist()
        return round(evaluate(labels.tolist(), predicted, info.classes).macro_f1(housing), 4)

    verdict = Verdict(info.version, housing_f1(graph), housing_f1(int8), len(validation), len(chosen))
    return verdict, int8


def keep(model: Path, verdict: Verdict, int8: bytes) -> None:
    """Write the graph and its verdict beside the model if it passed; remove an older one if not."""
    if verdict.kept:
        graph_path(model).write_bytes(int8)
        verdict_path(model).write_text(json.dumps(asdict(verdict), indent=2) + "\n")
        return
    graph_path(model).unlink(missing_ok=True)
    verdict_path(model).unlink(missing_ok=True)


def served_graph(model: Path, version: str) -> bytes | None:
    """The INT8 graph made from this very model version, if one was kept beside it."""
    try:
        recorded = json.loads(verdict_path(model).read_text())
    except (OSError, ValueError):
        return None
    if recorded.get("model_version") != version or not graph_path(model).exists():
        return None
    return graph_path(model).read_bytes()
