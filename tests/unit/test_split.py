"""The train/validation split: grouped by post/owner when the data has groups, random (with a
warning) when a plain text,label file has none."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from tests.unit.conftest import toy_examples
from training.data import TrainingDataError, load_examples, split_grouped


def _csv(tmp_path, with_posts: bool = True):
    toy = toy_examples()
    frame = pd.DataFrame({
        "comment_id": [f"c{i}" for i in range(len(toy))], "text": toy["text"],
        "label": np.where(toy["y"] == 1, "spam", "genuine"),
    })  # fmt: skip
    if with_posts:
        frame["post_id"] = toy["group"].str.replace("post:", "p")
    path = tmp_path / "labelled.csv"
    frame.to_csv(path, index=False)
    return path


def test_an_explicit_group_column_splits_like_auto(tmp_path):
    path = _csv(tmp_path)
    splits = {}
    for group_by in ("auto", "post_id"):
        examples, _ = load_examples([path], group_by=group_by)
        train, val = split_grouped(examples, 0.25, 13)
        assert not set(train["group"]) & set(val["group"])  # no post on both sides
        splits[group_by] = sorted(val["text"])
    assert splits["auto"] == splits["post_id"]


def test_a_file_without_groups_gets_a_stratified_random_split(tmp_path, caplog):
    examples, _ = load_examples([_csv(tmp_path, with_posts=False)])
    assert examples["group"].nunique() == 1
    with caplog.at_level(logging.WARNING, logger="training.data"):
        train, val = split_grouped(examples, 0.25, 13)
    assert "validation is a random split" in caplog.text
    assert len(val) == round(0.25 * len(examples)) and len(train) + len(val) == len(examples)
    assert train["y"].nunique() == 2 and val["y"].nunique() == 2
    assert not set(train["dedup_key"]) & set(val["dedup_key"])
    again, _ = split_grouped(examples, 0.25, 13)
    assert again["text"].tolist() == train["text"].tolist()  # the seed decides it


def test_one_group_with_a_single_example_of_a_label_is_refused():
    one = toy_examples().assign(group="post:0")
    one = pd.concat([one[one["y"] == 0], one[one["y"] == 1].head(1)], ignore_index=True)
    with pytest.raises(TrainingDataError, match="at least 2 examples of each label"):
        split_grouped(one, 0.25, 13)
