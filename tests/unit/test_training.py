"""Training: config validation, data contracts, calibration, the train/fine-tune/evaluate
entry points and the TF-IDF baseline, all on the tiny random-weight BERT."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import ConfigError
from training.calibrate import (
    choose_threshold,
    error_rates,
    expected_calibration_error,
    fit_temperature,
)
from training.config import load_train_config
from training.data import TrainingDataError, load_examples, split_grouped

REPO = Path(__file__).resolve().parents[2]


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def labelled_csv(tmp_path: Path, toy_frame: pd.DataFrame) -> Path:
    frame = toy_frame.rename(columns={"raw_text": "content"})
    frame = pd.DataFrame(
        {
            "comment_id": [f"c{i}" for i in range(len(frame))],
            "post_id": frame["group"].str.replace("post:", "p"),
            "text": frame["content"],
            "label": np.where(frame["y"] == 1, "spam", "genuine"),
        }
    )
    return write_csv(tmp_path / "labelled.csv", frame)


# --- config -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["train", "finetune", "smoke", "student"])
def test_shipped_configs_load(name):
    cfg = load_train_config(REPO / "configs" / f"{name}.toml")
    assert cfg.model.kind in ("lora", "full")


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.kind=adapter", "model.kind must be one of"),
        ("train.lr=0", "train.lr must be in"),
        ("data.val_fraction=0.9", "data.val_fraction must be"),
        ("calibration.target_precision=1.5", "target_precision"),
        ("train.class_weight=heavy", "train.class_weight"),
        ("train.nope=1", "unknown key"),
        ("model.layers=[2, 0]", "model.layers must be distinct ascending"),
    ],
)
def test_config_errors_are_actionable(override, message):
    with pytest.raises(ConfigError, match=message):
        load_train_config(None, [override])


# --- calibration --------------------------------------------------------------------


def test_temperature_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    margin = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.5, len(y))
    logits = np.column_stack([np.zeros(len(y)), 8 * margin])  # 8x too confident
    assert 4 < fit_temperature(logits, y) < 16


def test_threshold_is_lowest_reaching_target_precision():
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 1, 0, 1, 1, 1, 1])
    rule = choose_threshold(p, y, 0.95)
    assert rule["threshold"] == 0.6
    rates = error_rates(p, y, rule["threshold"])
    assert rates == {"sensitivity": 0.8, "specificity": 1.0, "n_pos": 5, "n_neg": 3}
    unreachable = choose_threshold(np.array([0.2, 0.8]), np.array([1, 0]), 0.95)
    assert "not reached" in unreachable["rule"]


def test_ece_zero_when_calibrated_and_large_when_not():
    y = np.array([0] * 50 + [1] * 50)
    assert expected_calibration_error(np.full(100, 0.5), y) == pytest.approx(0.0)
    assert expected_calibration_error(np.where(y == 1, 0.0, 1.0), y) == pytest.approx(1.0)


# --- data ---------------------------------------------------------------------------


def test_load_examples_dedups_with_majority_vote(tmp_path):
    texts = ["buy followers now"] * 3 + ["nice song"] * 2 + ["tie text"] * 2
    labels = ["spam", "spam", "genuine", "genuine", "genuine", "spam", "genuine"]
    texts += [f"filler spam {i}" for i in range(6)] + [f"filler real {i}" for i in range(6)]
    labels += ["spam"] * 6 + ["genuine"] * 6
    frame = pd.DataFrame({"post_id": "p1", "text": texts, "label": labels})
    frame.loc[len(frame)] = ["p2", "unlabelled comment", None]
    examples, report = load_examples([write_csv(tmp_path / "d.csv", frame)])
    by_text = dict(zip(examples["raw_text"], examples["y"], strict=True))
    assert by_text["buy followers now"] == 1 and by_text["nice song"] == 0
    assert "tie text" not in by_text
    assert report["dropped_ties"] == 1 and report["conflicting_texts"] == 2
    assert report["duplicates_merged"] == 4 and report["rows_unlabelled"] == 1
    assert report["n_examples"] == len(examples) == 14
    assert report["files"][0]["sha256"] and report["files"][0]["rows"] == len(frame)


def test_load_examples_refuses_unusable_data(tmp_path):
    no_label = write_csv(tmp_path / "a.csv", pd.DataFrame({"text": [f"t{i}" for i in range(20)]}))
    with pytest.raises(TrainingDataError, match="no labels"):
        load_examples([no_label])
    one_class = pd.DataFrame({"text": [f"t {i}" for i in range(20)], "label": "spam"})
    with pytest.raises(TrainingDataError, match="every example is spam"):
        load_examples([write_csv(tmp_path / "b.csv", one_class)])
    few = pd.DataFrame({"text": ["a", "b", "c"], "label": ["spam", "genuine", "spam"]})
    with pytest.raises(TrainingDataError, match="at least 10"):
        load_examples([write_csv(tmp_path / "c.csv", few)])


def test_unlabelled_and_merged_rows_are_logged_with_counts(tmp_path, labelled_csv, caplog):
    import logging

    frame = pd.read_csv(labelled_csv)
    frame.loc[0, "label"] = None
    frame = pd.concat([frame, frame.iloc[[1]]], ignore_index=True)  # one text twice
    with caplog.at_level(logging.INFO, logger="training.data"):
        _, report = load_examples([write_csv(tmp_path / "x.csv", frame)])
    assert "1 rows have no label and are left out" in caplog.text  # a warning: rows dropped
    assert f"{report['duplicates_merged']} rows repeat the text" in caplog.text


def test_a_file_given_twice_or_with_every_record_rejected_is_refused(tmp_path, labelled_csv):
    with pytest.raises(TrainingDataError, match="given twice"):
        load_examples([labelled_csv, Path(str(labelled_csv))])
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,S\nbye,G\n")
    with pytest.raises(TrainingDataError, match="all 2 records were rejected"):
        load_examples([bad])
    (tmp_path / "empty.csv").write_text("text,label\n")
    with pytest.raises(TrainingDataError, match="holds no records"):
        load_examples([tmp_path / "empty.csv"])


def test_unknown_label_values_are_counted_not_dropped_silently(tmp_path, labelled_csv):
    frame = pd.read_csv(labelled_csv)
    frame.loc[0, "label"] = "maybe"
    _, report = load_examples([write_csv(tmp_path / "x.csv", frame)])
    assert report["rejected"] == 1


def test_grouped_split_keeps_groups_apart(labelled_csv):
    examples, _ = load_examples([labelled_csv])
    train, val = split_grouped(examples, 0.25, seed=1)
    assert not set(train["group"]) & set(val["group"])
    assert set(train["y"]) == set(val["y"]) == {0, 1}
    assert len(train) + len(val) == len(examples)


# --- train, fine-tune, evaluate -----------------------------------------------------


def test_run_training_publishes_verified_model(make_config, labelled_csv, tmp_path):
    from training.train import run_training

    cfg = make_config(overrides=["data.val_fraction=0.25"])
    out = tmp_path / "model"
    model = run_training(cfg, [labelled_csv], out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training"]["data"][0]["path"] == str(labelled_csv)
    assert manifest["training"]["config"]["model"]["lora_r"] == 4
    assert manifest["metrics"]["validation"]["n"] == manifest["training"]["n_validation"]
    assert json.loads((out / "train_log.json").read_text())["history"]
    assert model.threshold == manifest["threshold"]
    # At the median p_spam both labels occur, so a swapped label or a fixed 0.5 would fail.
    texts = ["check out my channel", "love this song", "free bitcoin in my bio", "wow"]
    p_spam = model.predict_proba(texts)[:, 1]
    model.manifest = {**model.manifest, "threshold": float(np.median(p_spam))}
    labels = list(model.predict(texts))
    assert labels == np.where(p_spam >= np.median(p_spam), "spam", "genuine").tolist()
    assert {"spam", "genuine"} <= set(labels)
    with pytest.raises(ValueError, match="already exists"):
        run_training(cfg, [labelled_csv], out)


def test_finetune_replays_old_data_and_gates_promotion(
    make_config, labelled_csv, tmp_path, monkeypatch
):
    import training.finetune as finetune_module
    import training.train as train_module
    from training.export import refresh_card

    cfg = make_config(overrides=["data.val_fraction=0.25"])
    old = tmp_path / "old"
    train_module.run_training(cfg, [labelled_csv], old)
    prevalence = json.loads((old / "manifest.json").read_text())["prevalence"]
    spread = {"sensitivity_sd": 0.05, "specificity_sd": 0.06}
    refresh_card(old, "", {"prevalence": {**prevalence, "between_groups": spread}})
    new_data = pd.read_csv(labelled_csv)
    new_data["text"] = new_data["text"] + " again"
    new_csv = write_csv(tmp_path / "new.csv", new_data)
    # An impossible bar (new must beat old by more than 100 F1 points) forces a refusal.
    monkeypatch.setattr(finetune_module, "MAX_F1_DROP", -1.5)
    with pytest.raises(finetune_module.PromotionRefused, match="nothing written"):
        train_module.finetune(cfg, old, [new_csv], tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    train_module.finetune(cfg, old, [new_csv], tmp_path / "forced", force=True)
    manifest = json.loads((tmp_path / "forced" / "manifest.json").read_text())
    assert manifest["training"]["replay"]["rows"] > 0
    assert manifest["metrics"]["promotion"]["forced"] is True
    assert manifest["training"]["init_from"]["path"] == str(old)
    # Its rates come from its own validation split; the spread between creators is kept.
    assert manifest["prevalence"]["between_groups"] == {**spread, "inherited_from": str(old)}
    # Judged on (half of) the old model's own validation split too, not only on new samples.
    assert len(finetune_module.Parent.load(old).validation()) > 0
    assert manifest["metrics"]["promotion"]["composition"]["parent held-out"] > 0
    # A parent whose threshold came from its own validation split passes none on.
    assert "inherited_from" not in manifest["threshold_rule"]


def test_finetune_keeps_an_out_of_fold_threshold(make_config, labelled_csv, tmp_path):
    from training.export import refresh_card
    from training.finetune import INHERITED
    from training.operating_point import RULE
    from training.train import finetune, run_training

    cfg = make_config(overrides=["data.val_fraction=0.25"])
    old = tmp_path / "old"
    run_training(cfg, [labelled_csv], old)
    rule = {"threshold": 0.37, "rule": RULE.format(target=0.95), "target_precision": 0.95,
            "fitted_on": "out-of-fold predictions"}  # fmt: skip
    refresh_card(old, "", {"threshold": 0.37, "threshold_rule": rule})
    child = finetune(cfg, old, [labelled_csv], tmp_path / "child", force=True)
    grandchild = finetune(cfg, tmp_path / "child", [labelled_csv], tmp_path / "gc", force=True)
    for model, parent in ((child, old), (grandchild, tmp_path / "child")):
        m = model.manifest
        assert model.threshold == 0.37 == m["metrics"]["validation"]["threshold"]
        assert (
            m["threshold_rule"]["rule"] == INHERITED + "lowest with out-of-fold precision >= 0.95"
        )
        assert m["threshold_rule"]["inherited_from"] == str(parent)
        # The rates at that threshold are measured on the model's own validation split.
        rates, validation = m["error_rates"], m["metrics"]["validation"]
        assert rates["n_pos"] + rates["n_neg"] == validation["n"]
        assert rates["sensitivity"] == pytest.approx(validation["recall"], abs=1e-6)


def test_evaluate_writes_json_plot_and_markdown(tiny_model_dir, labelled_csv, tmp_path):
    from training.evaluate import evaluate, to_markdown

    result = evaluate(tiny_model_dir, [labelled_csv], out=tmp_path / "eval" / "result.json")
    for key in ("precision", "recall", "f1", "mcc", "roc_auc", "pr_auc", "ece", "confusion"):
        assert key in result
    assert set(result["groups"]) == {f"post_id:p{i}" for i in range(4)}
    assert (tmp_path / "eval" / "result.svg").read_text().lstrip().startswith("<?xml")
    assert json.loads((tmp_path / "eval" / "result.json").read_text())["n"] == result["n"]
    assert "| f1 |" in to_markdown(result)


def test_a_group_without_spam_or_flags_has_no_f1_and_names_are_shown_inert():
    from training.evaluate import group_metrics, to_markdown

    frame = pd.DataFrame({"group": ["ok"] * 3 + ["bad\x1b]0;pwned\x07\r|x"] * 2,
                          "y": [0, 0, 0, 1, 0]})  # fmt: skip
    groups = group_metrics(frame, np.array([0.1, 0.2, 0.1, 0.9, 0.8]), threshold=0.5)
    assert groups["ok"]["f1"] is None and groups["ok"]["accuracy"] == 1.0
    assert groups["bad\x1b]0;pwned\x07\r|x"]["f1"] == pytest.approx(2 / 3)
    result = {"confusion": {"tn": 0, "fp": 0, "fn": 0, "tp": 0}, "groups": groups,
              **dict.fromkeys(("n", "n_spam", "threshold", "precision", "recall", "f1", "mcc",
                               "roc_auc", "pr_auc", "ece"))}  # fmt: skip
    table = to_markdown(result)
    assert "| ok | 3 | 0 | 0 | n/a | 1.000 |" in table
    assert "\x1b" not in table and "\r" not in table and "\x07" not in table
    assert "bad\\x1b]0;pwned\\x07 \\|x" in table


def test_baseline_has_the_classifier_interface(labelled_csv):
    from training.baseline import Baseline

    examples, _ = load_examples([labelled_csv])
    train, val = split_grouped(examples, 0.25, seed=0)
    model = Baseline().fit(train, val)
    proba = model.predict_proba(["check out my channel", "love this song"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(["check out my channel"])) <= {"spam", "genuine"}


def test_refresh_card_keeps_weights_and_verifies(model_copy):
    from pipeline.model import Classifier
    from training.export import refresh_card

    before = Classifier.from_pretrained(model_copy).predict_proba(["check out my channel"])
    rates = {"sensitivity": 0.9, "specificity": 0.8, "n_pos": 40, "n_neg": 50}
    spread = {"sensitivity_sd": 0.05, "specificity_sd": 0.07, "sensitivity_groups": 6,
              "specificity_groups": 7, "min_n": 10}  # fmt: skip
    prevalence = {"threshold": 0.5, "error_rates": rates, "between_groups": spread}
    refresh_card(model_copy, "## Protocol results\n\n| a | b |", {"prevalence": prevalence})
    card = (model_copy / "README.md").read_text()
    assert "## Protocol results" in card
    assert "standard deviations 0.050 and 0.070 (6 and 7 groups)" in card
    after = Classifier.from_pretrained(model_copy).predict_proba(["check out my channel"])
    assert np.array_equal(before, after)
    assert sorted(p.name for p in model_copy.parent.iterdir()) == ["model"]


def test_refresh_card_measures_validation_again_at_a_new_threshold(make_config, labelled_csv,
                                                                   tmp_path):  # fmt: skip
    from training.export import refresh_card
    from training.train import run_training

    out = tmp_path / "model"
    run_training(make_config(overrides=["data.val_fraction=0.25"]), [labelled_csv], out)
    recorded = json.loads((out / "manifest.json").read_text())["metrics"]["validation"]
    refresh_card(out, "", {"threshold": 1.01})  # above every p_spam: nothing is flagged
    manifest = json.loads((out / "manifest.json").read_text())
    validation = manifest["metrics"]["validation"]
    assert validation["threshold"] == manifest["threshold"] == 1.01
    assert validation["confusion"]["tp"] == 0 and validation["n"] == recorded["n"]
    assert "| recall | 0.000 |" in (out / "README.md").read_text()


PRAISE = ["love this", "amazing 🔥", "so beautiful ❤️", "wow great", "🔥🔥🔥", "nice pic",
          "love it ❤️", "beautiful", "awesome 😍", "great shot", "so cute", "gorgeous",
          "perfect 👏", "wow", "stunning", "amazing"]  # fmt: skip


def test_generic_head_is_trained_on_rule_labels_and_calibrated(make_config, labelled_csv, tmp_path):
    from training.train import run_training

    frame = pd.read_csv(labelled_csv)
    posts = sorted(frame["post_id"].unique())
    praise = pd.DataFrame({"comment_id": [f"g{i}" for i in range(len(PRAISE))], "text": PRAISE,
                           "post_id": [posts[i % len(posts)] for i in range(len(PRAISE))],
                           "label": "genuine"})  # fmt: skip
    data = write_csv(tmp_path / "with_praise.csv", pd.concat([frame, praise]))
    cfg = make_config(overrides=["data.val_fraction=0.25", "generic.enabled=true"])
    model = run_training(cfg, [data], tmp_path / "two_head")
    manifest = model.manifest
    head = manifest["heads"]["p_generic"]
    assert head["logits"] == [2, 3] and head["temperature"] > 0
    assert manifest["training"]["generic_labels"]["examples_generic"] >= len(PRAISE) - 2
    assert manifest["metrics"]["validation_generic"]["n"] > 0
    card = (tmp_path / "two_head" / "README.md").read_text(encoding="utf-8")
    assert "## Second head: p_generic" in card and "first match wins" in card
    scores = model.score_clean(["love this", "what flour did you use? 2 cups?"])
    assert set(scores) >= {"p_spam", "p_generic"} and len(scores["p_generic"]) == 2


def test_generic_head_needs_a_parent_with_one(make_config, labelled_csv, tmp_path):
    from training.train import finetune, run_training

    cfg = make_config(overrides=["data.val_fraction=0.25"])
    run_training(cfg, [labelled_csv], tmp_path / "old")
    two_head = make_config(overrides=["data.val_fraction=0.25", "generic.enabled=true"])
    with pytest.raises(ValueError, match="no generic head"):
        finetune(two_head, tmp_path / "old", [labelled_csv], tmp_path / "new")
