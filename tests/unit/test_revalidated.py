"""A card whose threshold changes after training gets its validation metrics measured again."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_split import _csv


def test_validation_metrics_follow_the_threshold(make_config, tmp_path):
    from training.evaluate import revalidated
    from training.train import run_training

    out = tmp_path / "model"
    run_training(make_config(overrides=["data.val_fraction=0.25"]), [_csv(tmp_path)], out)
    manifest = json.loads((out / "manifest.json").read_text())
    recorded = manifest["metrics"]["validation"]
    # At the training threshold the rebuilt split reproduces what training measured.
    again = revalidated(out, recorded["threshold"])["validation"]
    assert again["confusion"] == recorded["confusion"]
    assert again["f1"] == pytest.approx(recorded["f1"]) and again["n"] == recorded["n"]
    # At a threshold above every p_spam nothing is flagged.
    never = revalidated(out, 1.01)["validation"]
    assert never["threshold"] == 1.01 and never["confusion"]["tp"] == never["confusion"]["fp"] == 0
    assert never["confusion"]["fn"] == recorded["n_spam"]
