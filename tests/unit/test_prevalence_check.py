"""The out-of-fold prevalence check on a synthetic fold cache with a known answer."""

import json

import numpy as np
import pandas as pd
import pytest

from training.prevalence import load_folds, owner_table, verdict


def test_owner_table_recovers_a_known_share(tmp_path):
    rng = np.random.default_rng(0)
    keys = [f"k{i}" for i in range(400)]
    truth = rng.random(400) < 0.3
    # A perfect classifier: p is 1 for spam, 0 otherwise; rates measured as perfect.
    fold = {
        "keys": keys,
        "p": truth.astype(float).tolist(),
        "groups": ["post_owner:a", "post_owner:b"],
        "threshold": 0.5,
        "error_rates": {"sensitivity": 1.0, "specificity": 1.0, "n_pos": 300, "n_neg": 300},
    }
    (tmp_path / "fold1.json").write_text(json.dumps(fold))
    rows = pd.DataFrame(
        {
            "post_owner": ["a"] * 200 + ["b"] * 150 + ["c"] * 50,
            "dedup_key": keys,
            "label": np.where(truth, "spam", "genuine"),
        }
    )
    table = owner_table(rows, load_folds(tmp_path))
    assert list(table["owner"]) == ["a", "b"]  # c was never held out by a fold
    assert table["corrected"].to_numpy() == pytest.approx(table["truth"].to_numpy())
    assert table["covered"].all() and "PASS" in verdict(table)


def test_missing_cache_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="evaluate_protocols"):
        load_folds(tmp_path)
