"""Fine-tuning the tile model on a labelled folder, with early stopping on validation.

The ImageNet trunk's first blocks (edges, colour blobs) transfer as they are and are the
most expensive to back-propagate through at full resolution, so they stay frozen with
their batch-norm statistics; the rest is fine-tuned with AdamW, a warm-up then cosine
learning rate, and label smoothing. The epoch with the best validation accuracy (macro-F1
breaking ties) is kept; training stops when `patience` epochs bring nothing better.

With `ema` above zero, what is validated and kept is an exponential moving average of the
weights (batch-norm statistics included) rather than the last step's: with about forty
steps an epoch on the shared tiles, one batch of hard tiles moves the raw weights further
than the average, and the average's validation figures are steadier from epoch to epoch.

Label smoothing leaves the kept model claiming less than it knows; a temperature fitted on
the validation tiles and folded into the class layer (`calibrate`) gives that back, so a
class probability of 0.9 means about nine in ten right. Classes and embeddings do not change.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from inference import dataset, modelfile
from inference.calibration import MIN_TEMPERATURE_TILES, fit_temperature
from inference.degrade import as_other_sensors
from inference.metrics import Evaluation, evaluate
from inference.model import TileNet, build


@dataclass(frozen=True)
class TrainConfig:
    input_size: int = 192
    epochs: int = 16
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    label_smoothing: float = 0.1
    patience: int = 4
    validation_share: float = 0.15
    test_share: float = 0.15  # held out from everything, used once at the end
    other_sensors: float = 0.5  # share of training tiles degraded as another sensor would see them
    start_from: Path | None = None  # a model file to fine-tune instead of starting from ImageNet
    frozen_blocks: int = 3  # stem plus this many blocks keep their ImageNet weights
    pretrained: bool = True
    seed: int = 0
    threads: int = 2
    ema: float = 0.0  # decay of the weights' moving average per step; 0 keeps the raw weights
    min_crop: float = dataset.Augment.min_crop  # smallest random crop, as a share of the tile's area


@dataclass
class EpochFigures:
    epoch: int
    train_loss: float
    validation_loss: float
    accuracy: float
    macro_f1: float
    seconds: float


@dataclass
class TrainResult:
    net: TileNet
    classes: tuple[str, ...]
    evaluation: Evaluation
    history: list[EpochFigures] = field(default_factory=list)
    best_epoch: int = 0
    train_tiles: int = 0
    validation_tiles: int = 0
    test_tiles: int = 0
    test: Evaluation | None = None  # the held-out test split, clean
    test_degraded: Evaluation | None = None  # the same tiles as another sensor would see them
    test_labels: NDArray[np.int64] | None = None
    test_probabilities: NDArray[np.float32] | None = None  # clean, for the calibration figures
    config: TrainConfig = field(default_factory=TrainConfig)
    temperature: float = 1.0  # folded into the class layer after the epoch was chosen (see `calibrate`)

    def history_dicts(self) -> list[dict[str, Any]]:
        return [asdict(h) for h in self.history]


def _starting_net(folder: dataset.LabelledFolder, config: TrainConfig) -> TileNet:
    if config.start_from is None:
        return build(len(folder.classes), pretrained=config.pretrained)
    net, info = modelfile.load(config.start_from)
    if tuple(info.classes) != tuple(folder.classes):
        raise dataset.DatasetError(
            f"the folder's classes ({', '.join(folder.classes)}) are not the model's ({', '.join(info.classes)})"
        )
    return net


def _freeze(net: TileNet, blocks: int) -> list[torch.nn.Module]:
    trunk = net.backbone
    frozen: list[torch.nn.Module] = [trunk._conv_stem, trunk._bn0, *list(trunk._blocks)[:blocks]]
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad_(False)
    return frozen


def _lr_at(step: int, total: int, warmup: int, peak: float) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def predict_logits(
    net: TileNet, images: NDArray[np.uint8], batch_size: int = 64
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Class scores before softmax, and embeddings, for whole tiles already at the input size."""
    net.eval()
    logits, embeddings = [], []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            out = net(torch.from_numpy(images[start : start + batch_size]))
            logits.append(out.logits.numpy())
            embeddings.append(out.embedding.numpy())
    return np.concatenate(logits), np.concatenate(embeddings)


def predict(
    net: TileNet, images: NDArray[np.uint8], batch_size: int = 64
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Class probabilities and embeddings for whole tiles already at the input size."""
    logits, embeddings = predict_logits(net, images, batch_size)
    probabilities: NDArray[np.float32] = torch.from_numpy(logits).softmax(dim=1).numpy()
    return probabilities, embeddings


def calibrate(net: TileNet, images: NDArray[np.uint8], labels: NDArray[np.int64]) -> float:
    """Fit a temperature on the validation tiles and fold it into the class layer; the embedding is untouched.

    Folded into the weights, it reaches everything that serves the model (the ONNX graph, its
    INT8 copy) with nothing to configure. Too few tiles leave the model as it is (1.0).
    """
    if len(labels) < MIN_TEMPERATURE_TILES:
        return 1.0
    logits, _ = predict_logits(net, images)
    temperature = fit_temperature(logits, labels.tolist())
    with torch.no_grad():
        net.classify.weight.div_(temperature)
        if net.classify.bias is not None:
            net.classify.bias.div_(temperature)
    return temperature


def train(
    folder: dataset.LabelledFolder,
    config: TrainConfig,
    *,
    show_progress: bool = True,
    on_epoch: Callable[[EpochFigures], None] | None = None,
) -> TrainResult:
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    rng = np.random.default_rng(config.seed)
    train_tiles, validation_tiles, test_tiles = dataset.split(folder, config.validation_share, config.test_share)
    if not validation_tiles:
        raise dataset.DatasetError("too few tiles to hold any back for validation (need two per class)")
    train_images, train_labels = dataset.load(train_tiles)
    validation_images, validation_labels = dataset.load(validation_tiles)
    validation_input = dataset.fit(validation_images, config.input_size)

    net = _starting_net(folder, config)
    frozen = _freeze(net, config.frozen_blocks) if config.pretrained else []
    parameters = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
    augment = dataset.Augment(config.input_size, min_crop=config.min_crop, other_sensors=config.other_sensors)
    average = _averaged(net, config.ema)
    steps_per_epoch = math.ceil(len(train_tiles) / config.batch_size)
    total_steps = steps_per_epoch * config.epochs

    result = TrainResult(
        net=net,
        classes=folder.classes,
        evaluation=evaluate([], [], folder.classes),
        train_tiles=len(train_tiles),
        validation_tiles=len(validation_tiles),
        config=config,
    )
    best_key: tuple[float, float] = (-1.0, -1.0)
    best_state: Mapping[str, torch.Tensor] = {}
    step = 0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        net.train()
        for module in frozen:
            module.eval()
        order = rng.permutation(len(train_tiles))
        losses = []
        bar = tqdm(
            range(0, len(order), config.batch_size),
            desc=f"epoch {epoch}/{config.epochs}",
            unit="batch",
            disable=not show_progress,
            leave=False,
        )
        for start in bar:
            index = order[start : start + config.batch_size]
            batch = np.stack([augment(train_images[i], rng) for i in index])
            for group in optimiser.param_groups:
                group["lr"] = _lr_at(step, total_steps, steps_per_epoch, config.learning_rate)
            out = net(torch.from_numpy(batch))
            loss = F.cross_entropy(
                out.logits, torch.from_numpy(train_labels[index]), label_smoothing=config.label_smoothing
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch stubs leave backward untyped
            optimiser.step()
            if average is not None:
                average.update_parameters(net)
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.3f}")
            step += 1

        judged = net if average is None else _inner(average)
        probabilities, _ = predict(judged, validation_input)
        validation_loss = float(
            -np.mean(np.log(probabilities[np.arange(len(validation_labels)), validation_labels] + 1e-9))
        )
        evaluation = evaluate(validation_labels.tolist(), probabilities.argmax(axis=1).tolist(), folder.classes)
        figures = EpochFigures(
            epoch=epoch,
            train_loss=round(float(np.mean(losses)), 4),
            validation_loss=round(validation_loss, 4),
            accuracy=round(evaluation.accuracy, 4),
            macro_f1=round(evaluation.macro_f1(), 4),
            seconds=round(time.perf_counter() - started, 1),
        )
        result.history.append(figures)
        if on_epoch is not None:
            on_epoch(figures)
        key = (evaluation.accuracy, evaluation.macro_f1())
        if key > best_key:
            best_key = key
            best_state = {k: v.detach().clone() for k, v in judged.state_dict().items()}
            result.best_epoch = epoch
            result.evaluation = evaluation
        elif epoch - result.best_epoch >= config.patience:
            break
    net.load_state_dict(best_state)
    result.temperature = round(calibrate(net, validation_input, validation_labels), 4)
    net.eval()
    if test_tiles:
        _test_once(net, test_tiles, folder.classes, config, result)
    return result


def _averaged(net: TileNet, decay: float) -> AveragedModel | None:
    if decay <= 0.0:
        return None
    if decay >= 1.0:
        raise ValueError(f"the moving average's decay must be below 1, not {decay}")
    smooth = get_ema_multi_avg_fn(decay)  # type: ignore[no-untyped-call]  # untyped in torch's stubs
    return AveragedModel(net, multi_avg_fn=smooth, use_buffers=True)


def _inner(average: AveragedModel) -> TileNet:
    module = average.module
    if not isinstance(module, TileNet):
        raise TypeError(f"the averaged model wraps {type(module).__name__}, not TileNet")
    return module


def _test_once(
    net: TileNet, tiles: list[dataset.LabelledTile], classes: tuple[str, ...], config: TrainConfig, result: TrainResult
) -> None:
    """The kept model on the test split, clean and as other sensors would see it: figures nothing was chosen by."""
    images, labels = dataset.load(tiles)
    clean, _ = predict(net, dataset.fit(images, config.input_size))
    other, _ = predict(net, dataset.fit(as_other_sensors(images, seed=config.seed), config.input_size))
    result.test_tiles = len(tiles)
    result.test = evaluate(labels.tolist(), clean.argmax(axis=1).tolist(), classes)
    result.test_degraded = evaluate(labels.tolist(), other.argmax(axis=1).tolist(), classes)
    result.test_labels, result.test_probabilities = labels, clean


def trained_at() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
