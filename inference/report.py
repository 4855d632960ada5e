"""What a training run leaves for people: figures as JSON, plots as PNG, and a model card."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never a display

import matplotlib.pyplot as plt  # the backend must be chosen first
import numpy as np

from inference.calibration import Reliability
from inference.housing import PRECARIOUS
from inference.metrics import Evaluation
from inference.modelfile import ModelInfo


def confusion_png(evaluation: Evaluation, path: Path, title: str) -> None:
    matrix = evaluation.confusion
    share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(evaluation.classes)
    fig, ax = plt.subplots(figsize=(3 + 0.45 * n, 2.5 + 0.42 * n), dpi=110)
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), evaluation.classes, rotation=70, ha="right", fontsize=8)
    ax.set_yticks(range(n), evaluation.classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for (i, j), count in np.ndenumerate(matrix):
        if count:
            ax.text(
                j, i, str(count), ha="center", va="center", fontsize=7, color="white" if share[i, j] > 0.5 else "black"
            )
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def curves_png(history: Sequence[Mapping[str, Any]], path: Path) -> None:
    epochs = [h["epoch"] for h in history]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=110)
    left.plot(epochs, [h["train_loss"] for h in history], marker="o", label="training (augmented)")
    left.plot(epochs, [h["validation_loss"] for h in history], marker="o", label="validation")
    left.set_xlabel("epoch")
    left.set_ylabel("cross-entropy")
    left.legend()
    right.plot(epochs, [h["accuracy"] for h in history], marker="o", label="accuracy")
    right.plot(epochs, [h["macro_f1"] for h in history], marker="o", label="macro-F1")
    right.set_xlabel("epoch")
    right.set_ylim(0, 1)
    right.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def reliability_png(housing: Reliability, confidence: Reliability, path: Path) -> None:
    """Predicted against observed per bin, the diagonal being perfect calibration; dot size is tiles."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), dpi=110)
    for ax, found, title, ylabel in (
        (axes[0], housing, "Housing score", "mean true housing weight"),
        (axes[1], confidence, "Class confidence", "share right"),
    ):
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
        xs = [b.predicted for b in found.bins]
        ys = [b.observed for b in found.bins]
        ax.plot(xs, ys, color="#12355b", marker="o", linewidth=1)
        ax.scatter(xs, ys, s=[8 + 2 * b.tiles for b in found.bins], color="#12355b", alpha=0.4)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted")
        ax.set_ylabel(ylabel)
        ax.set_title(f"{title} (ECE {found.ece:.3f})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def test_section(
    test: Evaluation, degraded: Evaluation, housing: Sequence[str], *, tiles: int, ece: Mapping[str, float]
) -> str:
    """The model card's figures on the held-out test split, clean and as other sensors would see it."""
    clean, other = test.summary(housing), degraded.summary(housing)
    rows = "\n".join(
        f"| {name} | {clean[key]:.4f} | {other[key]:.4f} |"
        for name, key in (("accuracy", "accuracy"), ("macro-F1", "macro_f1"), ("housing macro-F1", "housing_macro_f1"))
    )
    return f"""## Figures on the test split (used once)
{tiles} tiles held out from training and from choosing the epoch. "Other sensors" are the same
tiles resampled to 0.6-2 m a pixel, blurred, recoloured and re-compressed as JPEG
(`inference/degrade.py`), as imagery from another source would show the same ground.

| figure | as the archive shows them | as other sensors would |
|---|---|---|
{rows}

Calibration on the clean test split: expected calibration error of the housing score
{ece["housing_ece"]:.3f}, of the class confidence {ece["confidence_ece"]:.3f}
(`reliability.png`). A score of 0.7 means the tile looks like classes whose housing weights
average about 0.7; it is not a probability that the homes there are precarious.
"""


def report_json(evaluation: Evaluation, housing: Sequence[str], extra: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **evaluation.summary(housing),
        "per_class": [
            {"class": c.name, "precision": c.precision, "recall": c.recall, "f1": c.f1, "support": c.support}
            for c in evaluation.per_class
        ],
        "confusion": evaluation.confusion.tolist(),
        "classes": list(evaluation.classes),
        **extra,
    }


def write_json(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def model_card(
    info: ModelInfo,
    evaluation: Evaluation,
    *,
    data: str,
    train_tiles: int,
    validation_tiles: int,
    notes: Mapping[str, Any],
    held_out: str = "",
) -> str:
    housing = [name for name, weight in info.housing_weights.items() if weight > 0]
    summary = evaluation.summary(housing)
    rows = "\n".join(
        f"| {c.name} | {c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} | {c.support} |" for c in evaluation.per_class
    )
    weights = "\n".join(
        f"| {name} | {weight:.2f} |" for name, weight in sorted(info.housing_weights.items(), key=lambda kv: -kv[1])
    )
    settings = "\n".join(f"- {key}: {value}" for key, value in notes.items())
    return f"""# Model card: {info.version}

Land-use classifier and 128-d tile embedding for aerial imagery, with a housing score.

- Architecture: EfficientNet-Lite0 trunk, 128-d linear bottleneck (the published
  embedding, L2-normalised), linear class head over the embedding.
- Initialisation: {info.initialisation}.
- Input: RGB tiles resized to {info.input_size} x {info.input_size} px; imagery of about 0.3 m per pixel
  (web-mercator zoom 19 at Lima's latitude).
- Trained: {info.trained_at:%Y-%m-%d %H:%M} UTC.

## Data
{data}

Training tiles: {train_tiles}; validation tiles: {validation_tiles} (a deterministic split by a
hash of each file name within its class). The best epoch is chosen on validation, so the
validation figures are slightly optimistic; judge the model on tiles it has not seen
(`vigia model evaluate FOLDER`).

## Figures on validation

accuracy {summary["accuracy"]:.4f} · macro-F1 {summary["macro_f1"]:.4f} · housing macro-F1
{summary["housing_macro_f1"]:.4f} (over {", ".join(housing)})

| class | precision | recall | F1 | tiles |
|---|---|---|---|---|
{rows}

Confusion matrix: `confusion.png`; learning curves: `curves.png`.

{held_out}
## Housing score
The expected housing weight under the class probabilities, in [0, 1]; classes not listed
weigh 0. A sub-tile at or above {PRECARIOUS} counts as precarious when sensor tiles are rolled up.

| class | weight |
|---|---|
{weights}

## Training settings
{settings}

## Limits
- Not Peruvian imagery. The shared training tiles are USGS orthophotos of US cities; the
  housing classes describe density and type (dense, medium, sparse residential, mobile
  home parks), not housing quality as such. Lima's hillside settlements, roofs of
  calamina or esteras and unfinished upper floors are not in the data. Retrain on
  labelled local tiles (`vigia train FOLDER`) before trusting scores in a district.
- The housing weights are a judgement, not a measurement; change them with
  `vigia train --housing FILE` for your own classes.
- One image per tile, one season; haze, clouds and off-nadir views were not seen. Training
  varies resolution, blur, colour and compression, which narrows the gap to other sources
  but does not close it: measure it on your own imagery with `vigia model evaluate FOLDER
  --degraded` and, better, on labelled local tiles.
- What the score cannot tell: the materials of a roof, whether a home has water, a title or
  a foundation; two homes of very different quality under similar roofs look alike from above.
"""
