"""Fine-tuning keeps its held-out data clean: no held-out post or text is trained on, and the
promotion gate does not judge the parent on texts it trained on."""

from __future__ import annotations

import pandas as pd

from tests.unit.conftest import toy_examples
from tests.unit.test_split import _csv
from training.data import exclude_keys, load_examples, split_grouped
from training.train import exclude_held_out


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
    from training.train import Parent, finetune, run_training

    path = _csv(tmp_path)
    old = tmp_path / "old"
    run_training(make_config(overrides=["data.val_fraction=0.25"]), [path], old)
    parent = Parent.load(old)
    examples, _ = load_examples([path])
    # A child seed whose validation post is one the parent trained on.
    seed = next(s for s in range(1, 100)
                if set(split_grouped(examples, 0.25, s)[1]["group"])
                != set(parent.validation()["group"]))  # fmt: skip
    new_val = split_grouped(examples, 0.25, seed)[1]
    held = pd.concat([new_val, exclude_keys(parent.validation(), new_val)], ignore_index=True)
    unseen = exclude_keys(held, parent.trained())
    assert 0 < len(unseen) < len(held)
    cfg = make_config(overrides=["data.val_fraction=0.25", f"train.seed={seed}"])
    child = finetune(cfg, old, [path], tmp_path / "child", force=True)
    assert child.manifest["metrics"]["promotion"]["held_out_rows"] == len(unseen)
