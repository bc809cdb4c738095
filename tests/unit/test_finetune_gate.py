"""Fine-tuning: the promotion gate judges on rows neither model used, the model settings are
the parent's (and say so), and a grandchild still replays and is judged on the original data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import ConfigError
from tests.unit.conftest import toy_examples

SETTINGS = ["data.val_fraction=0.25", "train.max_steps=2", "train.batch_size=8", "train.seed=0"]


def _csv(path: Path, suffix: str, post: str) -> Path:
    toy = toy_examples(3)
    pd.DataFrame({
        "comment_id": [f"{post}{i}" for i in range(len(toy))],
        "post_id": [f"{post}{i % 8}" for i in range(len(toy))],
        "text": toy["text"] + suffix, "label": np.where(toy["y"] == 1, "spam", "genuine"),
    }).to_csv(path, index=False)  # fmt: skip
    return path


@pytest.fixture
def old(make_config, tmp_path) -> Path:
    from training.train import run_training

    run_training(make_config(overrides=SETTINGS), [_csv(tmp_path / "old.csv", "", "p")],
                 tmp_path / "old")  # fmt: skip
    return tmp_path / "old"


def test_the_gate_holds_rows_neither_model_used(make_config, old, tmp_path, monkeypatch):
    import training.finetune as finetune_module
    import training.train as train_module
    from training.data import load_examples

    # New posts, plus the old file re-exported: texts and posts the parent trained on.
    new = pd.concat([pd.read_csv(_csv(tmp_path / "n.csv", " again", "q")),
                     pd.read_csv(tmp_path / "old.csv")])  # fmt: skip
    new.to_csv(tmp_path / "new.csv", index=False)
    seen: dict[str, pd.DataFrame] = {}
    fit, evaluate_frame = train_module.fit, finetune_module.evaluate_frame

    def spy_fit(cfg, train, val, *args):
        seen.update(train=train, val=val)
        return fit(cfg, train, val, *args)

    def spy_evaluate(model, frame):
        seen["gate"] = frame
        return evaluate_frame(model, frame)

    monkeypatch.setattr(train_module, "fit", spy_fit)
    monkeypatch.setattr(finetune_module, "evaluate_frame", spy_evaluate)
    child = train_module.finetune(make_config(overrides=SETTINGS), old, [tmp_path / "new.csv"],
                                  tmp_path / "child", force=True)  # fmt: skip
    train, val, gate = seen["train"], seen["val"], seen["gate"]
    keys = lambda frame: set(frame["dedup_key"])  # noqa: E731
    assert len(gate) > 0 and len(val) > 0
    assert not keys(gate) & keys(val)  # the child early-stopped and calibrated on val
    parent_trained = keys(finetune_module.Parent.load(old).trained())
    assert not keys(gate) & parent_trained
    assert not keys(val) & parent_trained  # nor early-stopped on texts its parent fits
    held = pd.concat([val, gate])
    assert not keys(train) & keys(held) and not set(train["group"]) & set(held["group"])
    promotion = child.manifest["metrics"]["promotion"]
    split = child.manifest["training"]["data_report"]["validation_split"]
    assert split.startswith("train / validation / gate, grouped by post")
    assert promotion["held_out_rows"] == len(gate)
    parts = promotion["composition"]
    assert parts["new samples"] > 0 and parts["parent held-out"] > 0
    assert parts["new samples"] + parts["parent held-out"] + parts["reference"] == len(gate)
    assert parts["left_out_parent_trained"] > 0 and "noisy" in promotion["warning"]
    old_texts = keys(load_examples([tmp_path / "old.csv"])[0])
    assert keys(gate) - old_texts  # the new posts are judged, not only the old ones


def test_model_settings_are_the_parents_and_a_different_one_is_refused(old, tmp_path):
    from training.config import load_train_config
    from training.train import finetune

    with pytest.raises(ConfigError, match=r"model.lora_r = 2, but .* model.lora_r = 4"):
        finetune(load_train_config(None, [*SETTINGS, "model.lora_r=2"]), old,
                 [tmp_path / "old.csv"], tmp_path / "refused")  # fmt: skip
    with pytest.raises(ConfigError, match="model.target_modules"):
        overrides = [*SETTINGS, 'model.target_modules=["query"]']
        finetune(load_train_config(None, overrides), old, [tmp_path / "old.csv"], tmp_path / "x")
    # Defaults are not a choice: they give way to the parent's settings, which are recorded.
    same = [*SETTINGS, "model.lora_r=4", 'model.target_modules=["value", "query"]']
    finetune(load_train_config(None, same), old, [_csv(tmp_path / "new.csv", " again", "q")],
             tmp_path / "child", force=True)  # fmt: skip
    recorded = json.loads((tmp_path / "child" / "manifest.json").read_text())
    model = recorded["training"]["config"]["model"]
    adapter = json.loads((tmp_path / "child" / "adapter_config.json").read_text())
    assert model["lora_r"] == adapter["r"] == 4 and model["lora_alpha"] == 8
    assert set(model["target_modules"]) == set(adapter["target_modules"]) == {"query", "value"}
    assert model["max_length"] == recorded["max_length"] == 32  # the parent's, not 96
    assert model["base"] == recorded["base_model"]["source"]


def test_a_grandchild_replays_and_is_judged_on_the_original_data(make_config, old, tmp_path):
    from pipeline.artifact import sha256_file
    from training.lineage import Parent
    from training.train import finetune

    cfg = make_config(overrides=SETTINGS)
    finetune(cfg, old, [_csv(tmp_path / "new.csv", " again", "q")], tmp_path / "child",
             force=True)  # fmt: skip
    manifest = json.loads((tmp_path / "child" / "manifest.json").read_text())
    lineage = manifest["training"]["lineage"]
    assert [Path(e["data"][0]["path"]).name for e in lineage] == ["old.csv", "new.csv"]
    assert lineage[0]["data"][0]["sha256"] == sha256_file(tmp_path / "old.csv")
    parent, root = Parent.load(tmp_path / "child"), Parent.load(old)
    assert {p.name for p in parent.files} == {"old.csv", "new.csv"}
    assert set(root.examples["dedup_key"]) < set(parent.examples["dedup_key"])
    # The original validation rows stay held out, and the rebuild is the child's own split.
    assert set(root.validation()["dedup_key"]) <= set(parent.held_out()["dedup_key"])
    assert len(parent.validation()) == manifest["training"]["n_validation"]
    grandchild = finetune(cfg, tmp_path / "child", [_csv(tmp_path / "new2.csv", " 3", "r")],
                          tmp_path / "grandchild", force=True)  # fmt: skip
    replay = grandchild.manifest["training"]["replay"]
    assert {Path(p).name for p in replay["from"]} == {"old.csv", "new.csv"}
    assert len(grandchild.manifest["training"]["lineage"]) == 3


def test_a_plain_file_records_its_random_split_and_still_trains(make_config, tmp_path):
    from training.train import finetune, run_training

    toy = toy_examples()
    plain = pd.DataFrame({"text": toy["text"], "label": np.where(toy["y"] == 1, "spam", "genuine")})
    plain.to_csv(tmp_path / "plain.csv", index=False)
    model = run_training(make_config(overrides=SETTINGS), [tmp_path / "plain.csv"], tmp_path / "m")
    training = model.manifest["training"]
    assert training["data_report"]["validation_split"].startswith("random")
    # The one group is on both sides of a random split: only validation's texts leave training.
    assert training["n_train"] + training["n_validation"] == len(set(toy["text"]))
    plain.assign(text=plain["text"] + " again").to_csv(tmp_path / "new.csv", index=False)
    child = finetune(make_config(overrides=SETTINGS), tmp_path / "m", [tmp_path / "new.csv"],
                     tmp_path / "child", force=True)  # fmt: skip
    assert child.manifest["training"]["n_train"] > 0
    assert child.manifest["training"]["replay"]["rows"] > 0


def test_new_samples_from_two_posts_still_train(make_config, old, tmp_path):
    # The gate takes one post; validation is then cut at random through the other, whose
    # remaining rows must still train (they were all left out: 0 training rows, NaN loss).
    from training.train import finetune

    two = pd.read_csv(_csv(tmp_path / "n.csv", " again", "q"))
    two.assign(post_id=np.where(np.arange(len(two)) // 2 % 2, "q0", "q1")).to_csv(
        tmp_path / "two.csv", index=False
    )
    child = finetune(make_config(overrides=SETTINGS), old, [tmp_path / "two.csv"],
                     tmp_path / "child", force=True)  # fmt: skip
    training = child.manifest["training"]
    assert training["n_train"] > training["replay"]["rows"] > 0


def test_a_replay_file_changed_since_training_is_refused(make_config, old, tmp_path):
    from training.data import TrainingDataError
    from training.train import finetune

    with (tmp_path / "old.csv").open("a") as f:
        f.write("x1,p9,a text added afterwards,spam\n")
    _csv(tmp_path / "new.csv", " again", "q")
    with pytest.raises(TrainingDataError, match="changed since"):
        finetune(make_config(overrides=SETTINGS), old, [tmp_path / "new.csv"], tmp_path / "c")


def test_a_child_inside_its_parent_is_refused(make_config, old, tmp_path):
    from pipeline.artifact import ModelError, verify_dir
    from training.train import finetune

    _csv(tmp_path / "new.csv", " again", "q")
    with pytest.raises(ModelError, match="inside the model"):
        finetune(make_config(overrides=SETTINGS), old, [tmp_path / "new.csv"], old / "child")
    verify_dir(old)  # the parent still verifies


def test_a_validation_fraction_too_small_for_the_data_is_an_error(tmp_path):
    from training.data import TrainingDataError, split_grouped

    toy = toy_examples().assign(group="file:plain.csv").iloc[:20].reset_index(drop=True)
    with pytest.raises(TrainingDataError, match="val_fraction 0.05 of 20 examples"):
        split_grouped(toy, 0.05, 0)


def test_the_card_says_replayed_only_when_rows_were_replayed():
    from training.export import _replayed

    data = [{"path": "data/old.csv", "rows": 10, "sha256": "ab" * 32}]
    lineage = [{"data": data}, {"data": []}]
    for rows, says in ((20, "replayed, its held-out"), (0, "not replayed (no replay rows)")):
        manifest = {"training": {"lineage": lineage, "replay": {"rows": rows}}}
        assert says in _replayed(manifest)


def test_reference_files_are_recorded(make_config, old, tmp_path):
    from pipeline.artifact import sha256_file
    from pipeline.io import RejectSink
    from training.train import run_training

    _csv(tmp_path / "new.csv", " again", "q")
    reference = _csv(tmp_path / "ref.csv", " seen elsewhere", "r")
    with reference.open("a") as f:
        f.write("r-bad,r0,one more,maybe\n")  # an unknown label: a reject of the reference
    sink = RejectSink()
    child = run_training(make_config(overrides=SETTINGS), [tmp_path / "new.csv"],
                         tmp_path / "child", old, True, [reference], sink)  # fmt: skip
    # The reference file's rejects reach the run's rejects file like the training data's.
    assert [(Path(r.file).name, r.field) for r in sink.rejects] == [("ref.csv", "label")]
    (record,) = child.manifest["training"]["reference_data"]
    assert record["sha256"] == sha256_file(reference) and record["rows"] > 0
    assert child.manifest["metrics"]["promotion"]["composition"]["reference"] > 0


def test_a_spam_wave_alone_fine_tunes_with_replay(make_config, old, tmp_path):
    from training.data import TrainingDataError
    from training.train import finetune

    toy = pd.read_csv(_csv(tmp_path / "n.csv", " wave", "q"))
    toy[toy["label"] == "spam"].to_csv(tmp_path / "wave.csv", index=False)
    child = finetune(make_config(overrides=SETTINGS), old, [tmp_path / "wave.csv"],
                     tmp_path / "child", force=True)  # fmt: skip
    training, promotion = child.manifest["training"], child.manifest["metrics"]["promotion"]
    assert (
        training["data_report"]["n_genuine"] == 0
        and training["replay"]["spam"] < (training["replay"]["rows"])
    )  # the genuine side is the replay's
    assert promotion["composition"]["new samples"] > 0  # the wave is judged, not only trained
    assert "warning" not in promotion or "not both labels" not in promotion["warning"]
    assert promotion["forced"] is (promotion["new_f1"] < promotion["old_f1"] - 0.01)
    no_replay = [*SETTINGS, "data.replay_fraction=0"]
    with pytest.raises(TrainingDataError, match="every example is spam"):
        finetune(make_config(overrides=no_replay), old, [tmp_path / "wave.csv"], tmp_path / "x")
