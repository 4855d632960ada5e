import numpy as np
import pytest

from inference.metrics import confusion_matrix, evaluate


def test_confusion_rows_are_truth_columns_predictions() -> None:
    matrix = confusion_matrix([0, 0, 1, 2], [0, 1, 1, 0], 3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_figures_per_class_and_summaries() -> None:
    evaluation = evaluate([0, 0, 1, 1, 2, 2], [0, 0, 1, 2, 2, 2], ("a", "b", "c"))
    assert evaluation.accuracy == pytest.approx(5 / 6)
    b = evaluation.per_class[1]
    assert (b.precision, b.recall, b.support) == (1.0, 0.5, 2)
    assert b.f1 == pytest.approx(2 / 3, abs=1e-4)
    c = evaluation.per_class[2]
    assert c.precision == pytest.approx(2 / 3, abs=1e-4)
    assert evaluation.macro_f1() == pytest.approx(np.mean([1.0, 2 / 3, 0.8]), abs=1e-4)
    assert evaluation.macro_f1(["a"]) == 1.0
    assert evaluation.summary(["b", "c"])["housing_macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)


def test_classes_without_examples_do_not_drag_macro_f1() -> None:
    evaluation = evaluate([0, 0], [0, 0], ("a", "b"))
    assert evaluation.macro_f1() == 1.0
    assert evaluation.per_class[1].support == 0
