"""The generic-comment labelling rules on hand-made corpora (no model, no datasets)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from pipeline.config import ConfigError
from pipeline.score import clean_frame
from training import generic_labels as G


@pytest.fixture(scope="module")
def rules() -> G.GenericRules:
    return G.load_rules()


def corpus(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    """(text, post_id, post_owner, label) rows, cleaned like the real corpora."""
    frame = pd.DataFrame(rows, columns=["text", "post_id", "post_owner", "label"])
    return clean_frame(frame.astype("string"))


def label_of(labels: pd.DataFrame, text: str) -> tuple[float, str]:
    row = labels[labels["text"] == text].iloc[0]
    return row["generic"], row["rule"]


@pytest.mark.parametrize(
    "text",
    ["Amazing 🔥", "Love this ❤️", "Great content, keep it up", "sooo goood!!", "Wow 😍😍",
     "muy bonito", "trop beau", "wunderschön", "çok güzel", "すごい", "hahahaha"],
)  # fmt: skip
def test_stock_praise_in_several_languages(text, rules):
    assert G.is_stock_praise(text, rules.lexicon)


@pytest.mark.parametrize(
    "text", ["the drummer is amazing", "love the chorus", "", "🔥🔥", "nice, but too salty"]
)
def test_specific_or_empty_text_is_not_stock_praise(text, rules):
    assert not G.is_stock_praise(text, rules.lexicon)


@pytest.mark.parametrize(
    ("text", "marker"),
    [("what flour did you use?", "question"), ("Nice 5 move workout", "number"),
     ("@amy look 😂", "mention or link"), ("we went to see it in Lisbon last year", "name"),
     ("nice because it is quick", "argument"), ("Amazing 🔥", "")],
)  # fmt: skip
def test_content_markers(text, marker, rules):
    model_text = clean_frame(pd.DataFrame({"text": [text]}))["clean_text"].iloc[0]
    assert G.content_marker(text, model_text, rules.lexicon, rules.negative) == marker


def test_capitalised_every_word_is_not_a_name(rules):
    assert G.content_marker("Very Nice Picture Today", "", rules.lexicon, rules.negative) == ""


def test_rules_in_order(rules):
    rows = [
        ("🔥🔥🔥", "p1", "a", "genuine"),
        ("Amazing content 🔥", "p1", "a", "genuine"),
        ("amen", "p1", "a", "genuine"), ("amen", "p2", "b", "genuine"),
        ("amen", "p3", "b", None),  # unlabelled rows count for the repeat statistics too
        ("so true", "p1", "a", "spam"),  # spam first, even for stock praise
        ("how long did this take you?", "p2", "b", "genuine"),
        ("I made my grandmother's stew with less salt and it was still wonderful", "p2", "b",
         "genuine"),
        ("the drummer", "p3", "b", "genuine"),
    ]  # fmt: skip
    labels = G.label_texts(corpus(rows), rules)
    assert label_of(labels, "🔥🔥🔥") == (1.0, "emoji only")
    assert label_of(labels, "Amazing content 🔥") == (1.0, "stock praise")
    assert label_of(labels, "amen") == (1.0, "cross-post repeat")
    assert label_of(labels, "so true") == (0.0, "spam")
    assert label_of(labels, "how long did this take you?") == (0.0, "question")
    assert label_of(labels, rows[7][0]) == (0.0, "long")
    generic, rule = label_of(labels, "the drummer")
    assert math.isnan(generic) and rule == ""


def test_repeat_needs_enough_posts_and_owners(rules):
    # Three posts of one owner: a creator's regular fan, not a post-agnostic text.
    one_owner = [("amen", f"p{i}", "a", "genuine") for i in range(3)]
    two_posts = [("amen", "p1", "a", "genuine"), ("amen", "p2", "b", "genuine")]
    for rows in (one_owner, two_posts):
        labels = G.label_texts(corpus(rows), rules)
        assert not labels["repeat"].iloc[0] and labels["rule"].iloc[0] == ""


def test_videos_count_as_owners_when_there_is_no_owner(rules):
    rows = [("wow wow", f"video{i}", None, "genuine") for i in range(3)]
    stats = G.repeat_stats(corpus(rows))
    assert stats.loc["wow wow", "owners"] == 3


def test_attach_joins_on_dedup_key(rules):
    labels = G.label_texts(corpus([("🔥", "p1", "a", "genuine"), ("why?", "p1", "a", None)]), rules)
    examples = pd.DataFrame({"dedup_key": ["fire", "why", "unseen"], "y": [0, 0, 0]})
    g = G.attach(examples, labels)["g"].tolist()
    assert g[:2] == [1.0, 0.0] and math.isnan(g[2])


def test_counts_and_config_validation(rules):
    labels = G.label_texts(corpus([("🔥", "p1", "a", "genuine")]), rules)
    assert G.counts(labels)["rule: emoji only"] == 1
    with pytest.raises(ConfigError, match="min_posts"):
        G.load_rules(overrides=["repeat.min_posts=1"])
