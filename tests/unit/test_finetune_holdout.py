"""Fine-tuning keeps its held-out data clean: no held-out post or text is trained on, and the
promotion gate does not judge the parent on texts it trained on."""

from __future__ import annotations

import pandas as pd

from tests.unit.conftest import toy_examples
from tests.unit.test_split import _csv
from training.data import load_examples
from training.finetune import exclude_held_out


def test_held_out_texts_and_groups_are_left_out_of_training():
    frame = toy_examples()
    held_out = frame[frame["group"] == "post:1"].head(1)
    elsewhere = frame[frame["group"] == "post:2"].head(1)
    held_out = pd.concat([held_out, elsewhere.assign(group="post:9")])  # its text, not its post
    kept = exclude_held_out(frame, held_out, "training")
    assert "post:1" not in set(kept["group"])  # the whole post, not only the one text
    assert not set(kept["dedup_key"]) & set(held_out["dedup_key"])
    assert len(kept) == len(frame) - (frame["group"] == "post:1").sum() - 1


def test_the_gate_leaves_out_what_the_parent_trained_on(make_config, tmp_path):
    from training.finetune import finetune_sets
    from training.lineage import Parent
    from training.train import finetune, run_training

    path = _csv(tmp_path)
    old = tmp_path / "old"
    run_training(make_config(overrides=["data.val_fraction=0.25"]), [path], old)
    parent = Parent.load(old)
    examples, _ = load_examples([path])
    # The same file again: the new samples' gate rows are texts the parent trained on.
    cfg = make_config(overrides=["data.val_fraction=0.25", "train.seed=1"])
    _, _, gate, found = finetune_sets(cfg, examples, parent, ())
    assert found["gate"]["left_out_parent_trained"] > 0
    assert not set(gate["dedup_key"]) & set(parent.trained()["dedup_key"])
    child = finetune(cfg, old, [path], tmp_path / "child", force=True)
    assert child.manifest["metrics"]["promotion"]["held_out_rows"] == len(gate)
