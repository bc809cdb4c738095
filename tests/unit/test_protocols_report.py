"""The evaluation report's card section: LoRA against full fine-tuning, from fold results."""

from __future__ import annotations

import numpy as np

from training.protocols_report import card_summary, lora_vs_full

Y = np.array([1, 1, 1, 1, 0, 0, 0, 0])


def fold(p: list[float], f1: float, roc_auc: float) -> dict:
    metrics = dict.fromkeys(("precision", "recall", "mcc", "pr_auc", "ece"), 0.5)
    return {**metrics, "f1": f1, "roc_auc": roc_auc, "p": np.array(p), "y": Y, "seconds": 1.0}


def test_lora_vs_full_reports_differences_in_points_and_counts_the_close_ones():
    # At p >= 0.5 LoRA finds 3 of 4 spam (F1 6/7), full finds all 4 (F1 1).
    lora = fold([0.9, 0.8, 0.7, 0.4, 0.1, 0.1, 0.2, 0.3], f1=0.80, roc_auc=0.95)
    full = fold([0.9, 0.8, 0.7, 0.6, 0.1, 0.1, 0.2, 0.3], f1=0.81, roc_auc=0.96)
    results = {"uci_lovo": {"lora": [lora], "full": [full], "tfidf": [lora]}}
    lines = lora_vs_full(results)
    row = next(line for line in lines if line.startswith("| UCI"))
    assert row.endswith("| -1.0 | -14.3 | -1.0 |")
    assert "at most 1 F1 point on 0 of 1 protocols at p_spam >= 0.5 and on 1 of 1" in lines[-1]
    assert row in card_summary(results)


def test_no_statement_without_both_recipes():
    results = {"uci_lovo": {"lora": [fold([0.9] * 4 + [0.1] * 4, 1.0, 1.0)]}}
    assert lora_vs_full(results) == []
