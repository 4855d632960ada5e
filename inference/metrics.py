"""Classification figures from labels and predictions: pure, so training and evaluation agree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class ClassFigures:
    name: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Evaluation:
    classes: tuple[str, ...]
    confusion: NDArray[np.int64]  # rows: true class, columns: predicted class
    per_class: tuple[ClassFigures, ...]

    @property
    def accuracy(self) -> float:
        total = int(self.confusion.sum())
        return float(np.trace(self.confusion)) / total if total else 0.0

    def macro_f1(self, among: Sequence[str] | None = None) -> float:
        """Mean F1 over classes that have examples, optionally only those named in `among`."""
        chosen = [c for c in self.per_class if c.support > 0 and (among is None or c.name in among)]
        return float(np.mean([c.f1 for c in chosen])) if chosen else 0.0

    def summary(self, housing: Sequence[str]) -> dict[str, float]:
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1(), 4),
            "housing_macro_f1": round(self.macro_f1(housing), 4),
        }


def confusion_matrix(truth: Sequence[int], predicted: Sequence[int], classes: int) -> NDArray[np.int64]:
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(truth, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1)
    return matrix


def evaluate(truth: Sequence[int], predicted: Sequence[int], classes: Sequence[str]) -> Evaluation:
    matrix = confusion_matrix(truth, predicted, len(classes))
    figures = []
    for i, name in enumerate(classes):
        hits = int(matrix[i, i])
        predicted_as = int(matrix[:, i].sum())
        support = int(matrix[i, :].sum())
        precision = hits / predicted_as if predicted_as else 0.0
        recall = hits / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        figures.append(ClassFigures(name, round(precision, 4), round(recall, 4), round(f1, 4), support))
    return Evaluation(tuple(classes), matrix, tuple(figures))
