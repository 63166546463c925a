"""Metrics against hand-computed examples (and scikit-learn as a second opinion)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from monitor.training.metrics import (
    binary_metrics,
    multiclass_metrics,
    pr_auc,
    roc_auc,
    threshold_for_precision,
)


def test_binary_metrics_hand_computed() -> None:
    # At 0.5: 0.9 is a true positive, 0.8 a false positive, 0.4 a false negative, 0.1 a true negative.
    m = binary_metrics([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1], threshold=0.5)
    assert m["confusion_matrix"] == [[1, 1], [1, 1]]
    assert m["accuracy"] == 0.5
    assert m["precision"] == 0.5
    assert m["recall"] == 0.5
    assert m["f1"] == 0.5
    # Pairs (pos, neg): 0.9>0.8, 0.9>0.1, 0.4<0.8, 0.4>0.1 -> 3 of 4.
    assert m["roc_auc"] == pytest.approx(0.75)
    # Positives at rank 1 (precision 1) and rank 3 (precision 2/3): (1 + 2/3) / 2.
    assert m["pr_auc"] == pytest.approx(5 / 6)


def test_binary_metrics_threshold_moves_the_confusion_matrix() -> None:
    m = binary_metrics([1, 0, 1, 0], [0.9, 0.8, 0.4, 0.1], threshold=0.85)
    assert m["confusion_matrix"] == [[2, 0], [1, 1]]
    assert m["precision"] == 1.0
    assert m["recall"] == 0.5
    assert m["f1"] == pytest.approx(2 / 3)


def test_ties_share_their_rank() -> None:
    assert roc_auc([1, 0], [0.5, 0.5]) == 0.5
    assert pr_auc([1, 0], [0.5, 0.5]) == 0.5


def test_single_class_has_no_auc() -> None:
    assert roc_auc([1, 1], [0.2, 0.9]) is None
    assert pr_auc([0, 0], [0.2, 0.9]) is None
    m = binary_metrics([0, 0], [0.2, 0.9])
    assert m["roc_auc"] is None and m["precision"] == 0.0 and m["confusion_matrix"] == [[1, 1], [0, 0]]


def test_auc_agrees_with_scikit_learn_on_random_scores() -> None:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.random(300) + y * 0.3, 2)  # rounding makes ties
    assert roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert pr_auc(y, s) == pytest.approx(average_precision_score(y, s))


def test_multiclass_metrics_hand_computed() -> None:
    y_true = ["a", "a", "b", "c"]
    y_pred = ["a", "b", "b", "b"]
    m = multiclass_metrics(y_true, y_pred, ["a", "b", "c"])
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert m["accuracy"] == 0.5
    # a: p=1, r=0.5; b: p=1/3, r=1; c: p=0, r=0.
    assert m["per_class"]["a"]["f1"] == pytest.approx(2 / 3)
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.5)
    assert m["precision"] == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert m["recall"] == pytest.approx(0.5)


def test_threshold_for_precision_takes_most_recall_at_target() -> None:
    y = [1, 1, 0, 1, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.2]
    # Cutting at 0.6 keeps 3 of 4 predicted positive right (0.75) with full recall; the cut goes
    # halfway to the next lower score.
    assert threshold_for_precision(y, s, 0.75) == pytest.approx(0.4)
    # Precision 1.0 is only reached down to 0.8; halfway to 0.7.
    assert threshold_for_precision(y, s, 1.0) == pytest.approx(0.75)


def test_threshold_for_precision_falls_back_when_unreachable() -> None:
    assert threshold_for_precision([0, 1], [0.9, 0.1], 0.9) == 0.5
    assert threshold_for_precision([0, 0], [0.9, 0.1], 0.9) == 0.5
