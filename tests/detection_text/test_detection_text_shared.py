"""The real deceptive-review corpora in ../shared read and train through the same code paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.training.fit import subset
from monitor.training.folds import cross_validate, split_indices
from monitor.training.io import read_table

pytestmark = pytest.mark.shared


def test_op_spam_reads_with_hotel_disjoint_folds(shared: Path) -> None:
    t = read_table(shared / "data" / "op_spam_v1.4.csv", label="label", positive="deceptive", id_column="review_id")
    assert len(t.ids) == 1600 and t.y.sum() == 800
    splits = split_indices(t, folds=5, group_column="fold")
    hotels = t.frame["hotel"].to_numpy()
    for train_idx, test_idx in splits:
        assert not set(hotels[train_idx]) & set(hotels[test_idx])


def test_salminen_small_cv_beats_chance_clearly(shared: Path) -> None:
    t = read_table(shared / "data" / "salminen_fake_reviews_dev.csv", label="label", positive="CG")
    rng = np.random.default_rng(0)
    small = subset(t, np.sort(rng.choice(len(t.ids), 600, replace=False)))
    m = cross_validate(small, folds=3)
    assert m["accuracy"] > 0.75 and m["roc_auc"] > 0.8
    # Equal-sized folds: the overall accuracy is the mean of the per-fold ones.
    assert len(m["fold_accuracy"]) == 3 and np.mean(m["fold_accuracy"]) == pytest.approx(m["accuracy"])
