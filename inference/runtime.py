"""The served forward pass: the fused network exported to ONNX and run by ONNX Runtime.

Training stays in PyTorch; serving runs the same weights through ONNX Runtime, which on
this machine's two cores runs the fused EfficientNet-Lite0 about 1.6x faster than torch's
eager mode at the same thread count (`make bench-inference` prints both). The export is
made in memory when a model is loaded (a second or two) and checked against torch's own
output on a probe batch, so a faulty export is refused before it serves anything.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnxruntime as ort
import torch
from numpy.typing import NDArray
from torch import nn

from inference.model import TileNet

EXPORT_TOLERANCE = 1e-3


class _Outputs(nn.Module):
    """The network with plain tensor outputs, which is what an ONNX graph can return."""

    def __init__(self, net: TileNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(images)
        return out.logits.softmax(dim=1), out.embedding


class ExportError(RuntimeError):
    """The exported graph does not compute what the network computes."""


def export(net: TileNet, input_size: int) -> tuple[bytes, NDArray[np.uint8], list[NDArray[np.float32]]]:
    """The network as an ONNX graph, with a probe batch and what torch computes for it."""
    wrapped = _Outputs(net).eval()
    probe = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, input_size, input_size, 3), dtype=np.uint8))
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer notes about shape checks that are constant for a fixed input size
        torch.onnx.export(
            wrapped,
            (probe,),
            buffer,  # type: ignore[arg-type]  # the TorchScript exporter writes to any binary file
            input_names=["images"],
            output_names=["probabilities", "embedding"],
            dynamic_axes={"images": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        expected = [t.numpy() for t in wrapped(probe)]
    return buffer.getvalue(), probe.numpy(), expected


def session(graph: bytes, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings would go to stderr past the JSON log lines
    # Idle ONNX Runtime threads spin by default, taking the cores that decode the next
    # batch (and, in production, the stream worker's share of the machine).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class OnnxForward:
    """The forward pass served: the network's own export, or a quantized graph made from it
    (see `quantize.py`), which is judged by its own figures rather than against torch."""

    def __init__(self, net: TileNet, *, input_size: int, threads: int, graph: bytes | None = None) -> None:
        self.precision = "int8" if graph is not None else "fp32"
        if graph is not None:
            self.session = session(graph, threads)
            return
        graph, probe, expected = export(net, input_size)
        self.session = session(graph, threads)
        got = self.session.run(None, {"images": probe})
        worst = max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True))
        if worst > EXPORT_TOLERANCE:
            raise ExportError(f"exported model differs from torch by {worst:.2g}")

    def __call__(self, images: NDArray[np.uint8]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Class probabilities and L2-normalised embeddings of a (N, S, S, 3) uint8 batch."""
        probabilities, embeddings = self.session.run(None, {"images": np.ascontiguousarray(images)})
        return np.asarray(probabilities, dtype=np.float32), np.asarray(embeddings, dtype=np.float32)
