"""The recipe's decision threshold, chosen on out-of-fold predictions (training.operating_point)."""

from __future__ import annotations

import numpy as np
import pytest

from training.operating_point import (
    manifest_fields,
    oof_temperature,
    oof_threshold,
    recalibrated,
    rethreshold,
)


def fold(name: str, p: list[float], y: list[int], threshold: float = 0.9) -> dict:
    return {"fold": name, "p": p, "y": y, "threshold": threshold, "f1": 0.0, "seconds": 1.0}


A = fold("a", [0.2, 0.6, 0.7, 0.8, 0.9], [0, 0, 1, 1, 1])
B = fold("b", [0.3, 0.4, 0.5, 0.1], [1, 1, 1, 0])
C = fold("c", [0.35, 0.45, 0.55, 0.65], [0, 1, 1, 1])


def test_the_threshold_is_the_lowest_reaching_the_target_over_the_pooled_folds():
    # Pooled A+B: at 0.3 the flagged are 0.3..0.9 = 7 comments, 1 genuine (0.6): 6/7 >= 0.8;
    # at 0.2 also the genuine 0.2: 6/8 < 0.8.
    chosen = oof_threshold([A, B], 0.8)
    assert chosen["threshold"] == 0.3
    assert chosen["rule"] == "lowest with out-of-fold precision >= 0.8"
    assert chosen["fitted_on"].startswith("out-of-fold predictions of the evaluation protocols")
    assert "(9 comments, 2 folds;" in chosen["fitted_on"]
    # At 0.3: 6 of 6 spam flagged, 1 of 3 genuine (0.6) flagged.
    rates = chosen["error_rates"]
    assert (rates["sensitivity"], rates["n_pos"], rates["n_neg"]) == (1.0, 6, 3)
    assert rates["specificity"] == pytest.approx(2 / 3, abs=1e-6)


def test_each_fold_is_scored_at_the_threshold_of_the_other_folds_only():
    results = {
        "uci_lovo": {"lora": [A]},
        "scamspot_grouped": {"lora": [B, C]},
        "youtube_to_instagram": {"lora": [fold("all", [0.9, 0.1], [1, 0], 0.42)]},
    }
    out = rethreshold(results, 0.8)
    a = out["uci_lovo"]["lora"][0]
    # B+C pooled: at 0.3 precision 6/7 (0.35 genuine), at 0.1 6/8 -> threshold 0.3; A at 0.3 flags
    # 0.6..0.9 = 4 comments, 3 spam: precision 0.75, recall 1, F1 6/7.
    assert a["threshold"] == 0.3 and a["validation_threshold"] == 0.9
    assert a["precision"] == pytest.approx(0.75) and a["f1"] == pytest.approx(6 / 7)
    assert a["confusion"] == {"tn": 1, "fp": 1, "fn": 0, "tp": 3}
    # C is held out of its own threshold: A+B gives 0.3, which flags all of C.
    c = out["scamspot_grouped"]["lora"][1]
    assert c["threshold"] == 0.3 and c["recall"] == 1.0 and c["precision"] == 0.75
    assert out["youtube_to_instagram"] == results["youtube_to_instagram"]
    assert results["uci_lovo"]["lora"][0]["threshold"] == 0.9  # the input is not modified


def test_a_model_with_a_single_fold_keeps_its_own_threshold():
    results = {"uci_lovo": {"tfidf": [A]}}
    assert rethreshold(results, 0.8)["uci_lovo"]["tfidf"][0] is A


def test_the_shipped_model_gets_the_threshold_of_all_in_domain_folds_with_its_rates():
    results = {"uci_lovo": {"lora": [A]}, "scamspot_grouped": {"lora": [B], "tfidf": [C]}}
    fields = manifest_fields(results, "lora", 0.8)
    assert fields["threshold"] == 0.3 == fields["threshold_rule"]["threshold"]
    assert "error_rates" not in fields["threshold_rule"]
    assert fields["error_rates"]["n_pos"] == 6 and fields["error_rates"]["sensitivity"] == 1.0


def test_the_out_of_fold_temperature_is_the_maximum_likelihood_one_of_the_pooled_margins():
    # Labels drawn from sigmoid(margin / 2): the pooled fit recovers T = 2, whatever split.
    rng = np.random.default_rng(0)
    margin = rng.normal(0, 6, 40_000)
    y = (rng.random(margin.size) < 1 / (1 + np.exp(-margin / 2))).astype(int)
    halves = [
        {"margin": m.tolist(), "y": v.tolist()}
        for m, v in zip(np.split(margin, 2), np.split(y, 2), strict=True)
    ]
    assert oof_temperature(halves) == pytest.approx(2.0, rel=0.05)
    assert oof_temperature([*halves, {"p": [0.5], "y": [1]}]) is None  # a cache without margins


def test_recalibrated_folds_keep_their_order_and_put_the_margin_zero_at_one_half():
    f = {"margin": [-4.0, 0.0, 2.0], "y": [0, 1, 1], "p": [0.1, 0.5, 0.8], "temperature": 1.0}
    out = recalibrated(f, 2.0)
    assert out["p"] == pytest.approx([1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-1))], abs=1e-5)
    assert out["temperature"] == 2.0 and f["p"] == [0.1, 0.5, 0.8]
