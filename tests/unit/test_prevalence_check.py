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


def test_between_group_spread_by_hand():
    from training.calibrate import between_group_sd

    # Sensitivity 8/10, 10/10 and 18/20 in three owners: pooled 0.9, weights 111.1, 111.1 and
    # 222.2, Q = 2.222, tau^2 = (2.222 - 2) / (444.4 - 166.7) = 0.0008 (DerSimonian-Laird).
    p = np.array([0.9] * 8 + [0.1] * 2 + [0.9] * 28 + [0.1] * 2 + [0.1] * 30 + [0.9] * 5)
    y = np.array([1] * 40 + [0] * 35)
    groups = np.array(["a"] * 10 + ["b"] * 10 + ["c"] * 20 + ["a"] * 15 + ["b"] * 15 + ["e"] * 5)
    spread = between_group_sd(p, y, groups, 0.5)
    assert spread["sensitivity_sd"] == pytest.approx(np.sqrt(0.0008), abs=1e-6)
    # Owner e's 5 genuine comments (all flagged) are under min_n = 10, so they are left out.
    assert spread["specificity_groups"] == 2 and spread["specificity_sd"] == 0.0


def test_owner_table_compares_the_estimators(tmp_path):
    rng = np.random.default_rng(1)
    keys = [f"k{i}" for i in range(300)]
    truth = rng.random(300) < 0.4
    fold = perfect_fold(keys, truth, ["a"] * 300)
    fold["p"] = np.where(truth, 0.8, 0.3).tolist()  # right at 0.5, but p_spam is not 0/1
    other = perfect_fold([f"x{i}" for i in range(100)], rng.random(100) < 0.5, ["d"] * 100)
    for name, f in (("fold1", fold), ("fold2", other)):
        (tmp_path / f"{name}.json").write_text(json.dumps(f))
    rows = pd.DataFrame({"post_owner": ["a"] * 300, "dedup_key": keys,
                         "label": np.where(truth, "spam", "genuine")})  # fmt: skip
    table = owner_table(rows, load_folds(tmp_path))
    row = table.iloc[0]
    assert row["counted_share"] == pytest.approx(truth.mean())
    assert row["mean_p_spam"] == pytest.approx(0.3 + 0.5 * truth.mean())
    from training.prevalence import alternatives

    text = alternatives(table)
    assert "mean calibrated p_spam: within 5% for 0 of 1" in text
    assert "uncorrected share at p_spam >= 0.5: within 5% for 1 of 1" in text


def test_quantifiers_by_hand():
    from training.prevalence import quantifiers

    # The other folds: mean p_spam 0.8 on spam and 0.2 on genuine, training prior 1/2.
    others = [{"p": [0.8, 0.8, 0.2, 0.2], "y": [1, 1, 0, 0]}]
    # PACC: (0.5 - 0.2) / (0.8 - 0.2) = 0.5 for a group whose mean p_spam is 0.5.
    assert quantifiers(np.array([0.8, 0.2]), others)["pacc"] == pytest.approx(0.5)
    # EMQ on p = 0.9, 0.9, 0.9, 0.1 from prior 1/2: the fixed point pi = mean of the
    # re-weighted posteriors solves x^2 - 1.45 x + 0.52 = 0 for x = 0.8 pi, so x = 0.65 and
    # pi = 0.8125 (x = 0.8, pi = 1, repels), above the mean p_spam of 0.7.
    emq = quantifiers(np.array([0.9, 0.9, 0.9, 0.1]), others)["emq"]
    assert emq == pytest.approx(0.8125, abs=1e-3)


def imperfect_fold(n_spam: int, n_genuine: int, missed: int, false_alarms: int, owner: str):
    """A fold whose classifier misses `missed` spam and flags `false_alarms` genuine comments."""
    y = np.array([1] * n_spam + [0] * n_genuine)
    flagged = np.concatenate([np.arange(n_spam) >= missed, np.arange(n_genuine) < false_alarms])
    fold = perfect_fold([f"{owner}{i}" for i in range(len(y))], y.astype(bool), [owner] * len(y))
    return {**fold, "p": np.where(flagged, 0.8, 0.2).tolist()}


def test_owner_table_undoes_known_error_rates(tmp_path):
    # Rates from the other fold: Se = 90/100, Sp = 90/100. Owner a: 60 spam (6 missed) and
    # 140 genuine (14 flagged), so 68 of 200 counted (0.34) and Rogan-Gladen gives
    # (0.34 + 0.9 - 1) / (0.9 + 0.9 - 1) = 0.30, the truth.
    owner, rates = imperfect_fold(60, 140, 6, 14, "a"), imperfect_fold(100, 100, 10, 10, "d")
    for name, fold in (("fold1", owner), ("fold2", rates)):
        (tmp_path / f"{name}.json").write_text(json.dumps(fold))
    rows = pd.DataFrame({"post_owner": ["a"] * 200, "dedup_key": owner["keys"],
                         "label": np.where(owner["y"], "spam", "genuine")})  # fmt: skip
    row = owner_table(rows, load_folds(tmp_path)).iloc[0]
    assert row["counted_share"] == pytest.approx(0.34)
    assert row["corrected"] == pytest.approx(0.30) and row["truth"] == pytest.approx(0.30)
    assert row["covered"]
