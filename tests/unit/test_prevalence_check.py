"""The out-of-fold prevalence check on a synthetic fold cache with a known answer."""

import json

import numpy as np
import pandas as pd
import pytest

from training.prevalence import load_folds, owner_table, verdict


def perfect_fold(keys: list[str], truth: np.ndarray, owners: list[str]) -> dict:
    """A perfect classifier's fold: p is 1 for spam, 0 otherwise."""
    p = truth.astype(float).tolist()
    groups = [f"post_owner:{o}" for o in owners]
    return {"keys": keys, "p": p, "y": truth.astype(int).tolist(), "groups": groups,
            "threshold": 0.9}  # fmt: skip


def test_owner_table_recovers_a_known_share(tmp_path):
    rng = np.random.default_rng(0)
    keys = [f"k{i}" for i in range(400)]
    truth = rng.random(400) < 0.3
    fold1 = perfect_fold(keys, truth, ["a"] * 200 + ["b"] * 150 + ["c"] * 50)
    other = rng.random(100) < 0.5  # the rates for fold1's owners come from fold2 only
    fold2 = perfect_fold([f"x{i}" for i in range(100)], other, ["d"] * 100)
    for name, fold in (("fold1", fold1), ("fold2", fold2)):
        (tmp_path / f"{name}.json").write_text(json.dumps(fold))
    rows = pd.DataFrame(
        {
            "post_owner": ["a"] * 200 + ["b"] * 150 + ["c"] * 50,
            "dedup_key": keys,
            "label": np.where(truth, "spam", "genuine"),
        }
    )
    table = owner_table(rows, load_folds(tmp_path))
    assert list(table["owner"]) == ["a", "b", "c"]
    assert table["corrected"].to_numpy() == pytest.approx(table["truth"].to_numpy())
    assert table["covered"].all() and "PASS" in verdict(table)


def test_rates_of_a_fold_leave_its_own_predictions_out():
    from training.prevalence import fold_rates

    good = perfect_fold(["a", "b"], np.array([True, False]), ["x", "x"])
    bad = {**good, "p": [0.0, 1.0]}  # every prediction wrong
    assert fold_rates([good, bad], good).sensitivity == 0.0
    assert fold_rates([good, bad], bad).sensitivity == 1.0


def test_missing_cache_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="evaluate_protocols"):
        load_folds(tmp_path)


class Oracle:
    """A classifier that knows the answer (p_spam 1 for spam), with perfect error rates."""

    threshold = 0.5
    manifest = {"error_rates": {"sensitivity": 1.0, "specificity": 1.0, "n_pos": 500,
                                "n_neg": 500}}  # fmt: skip

    def __init__(self, spam: set[str]) -> None:
        self.spam = spam

    def score_clean(self, texts):
        return {"p_spam": np.array([float(t in self.spam) for t in texts])}


def test_shipped_table_uses_the_reports_numbers_per_owner():
    from training.prevalence import shipped_table

    owners = ["a"] * 60 + ["b"] * 80 + ["c"] * 10  # c is too small to be checked
    labels = ["spam"] * 15 + ["genuine"] * 45 + ["spam"] * 40 + ["genuine"] * 40 + ["spam"] * 10
    texts = [f"text {i}" for i in range(len(owners))]
    rows = pd.DataFrame({"post_owner": owners, "clean_text": texts, "label": labels})
    spam = {t for t, lab in zip(texts, labels, strict=True) if lab == "spam"}
    table = shipped_table(rows, Oracle(spam), min_labelled=50)
    assert list(table["owner"]) == ["a", "b"]
    assert table["truth"].tolist() == pytest.approx([0.25, 0.5])
    assert table["corrected"].tolist() == pytest.approx([0.25, 0.5])
    assert table["covered"].all()
