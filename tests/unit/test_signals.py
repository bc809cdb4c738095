"""Coordination signals on small hand-made frames, and on the planted campaign of the example."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.reasons import reasons_for
from pipeline.signals import (
    INPUT_COLUMNS,
    SIGNAL_COLUMNS,
    SignalsConfig,
    add_signals,
    enough_word_chars,
    enough_words,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "instagram_export.jsonl"
T0 = pd.Timestamp("2026-03-02T18:00:00Z")


def frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (post_id, author, dedup_key, seconds after T0 or None)."""
    stamp = [None if s is None else (T0 + pd.Timedelta(seconds=s)).isoformat() for *_, s in rows]
    return pd.DataFrame(
        {
            "comment_id": [f"c{i}" for i in range(len(rows))],
            "post_id": [r[0] for r in rows],
            "author": [r[1] for r in rows],
            "dedup_key": [r[2] for r in rows],
            "created_at": stamp,
        }
    ).astype("string")


def spaced(rows: list[tuple]) -> pd.DataFrame:
    """Like frame(), but an hour between comments so no burst interferes."""
    return frame([(*r, 3600 * i) for i, r in enumerate(rows)])


def test_exact_copy_across_posts_is_one_cluster():
    out = add_signals(spaced([("p1", "a", "great post keep it up!"),
                              ("p2", "b", "great post keep it up!"),
                              ("p3", "c", "great post keep it up!"),
                              ("p1", "d", "which band do you use?")]))  # fmt: skip
    copies = out.iloc[:3]
    assert copies["cluster_id"].nunique() == 1
    assert copies[["cluster_size", "cluster_posts", "cluster_authors"]].eq(3).all().all()
    assert copies["copy_paste"].all()
    assert out.iloc[3]["cluster_size"] == 1 and not out.iloc[3]["copy_paste"]
    assert out.iloc[3]["cluster_id"] != copies.iloc[0]["cluster_id"]


def test_near_duplicates_merge_and_different_texts_do_not():
    base = "this is the best pasta recipe i have tried all year, thank you so much"
    out = add_signals(spaced([("p1", "a", "amazing content, love your work 🔥"),
                              ("p2", "b", "amazing content, love your work 🔥🔥🔥"),
                              ("p3", "c", base),
                              ("p4", "d", base.replace("best", "best easy")),
                              ("p5", "e", "what lens did you use for this shot?"),
                              ("p6", "f", "how long did it take to get up there?")]))  # fmt: skip
    ids = out["cluster_id"].tolist()
    assert ids[0] == ids[1] and ids[2] == ids[3]
    assert len({ids[0], ids[2], ids[4], ids[5]}) == 4
    assert out["cluster_size"].tolist() == [2, 2, 2, 2, 1, 1]


def test_short_keys_cluster_only_exactly():
    out = add_signals(
        spaced([("p1", "a", "wow 😍"), ("p2", "b", "wow 😍😍"), ("p3", "c", "wow 😍")])
    )
    assert out["cluster_id"][0] == out["cluster_id"][2] != out["cluster_id"][1]


def test_emoji_and_tiny_repeats_are_not_copy_paste():
    out = add_signals(spaced([(f"p{i}", f"fan{i}", "🔥") for i in range(6)]))
    assert out["cluster_size"].eq(6).all()
    assert not out["copy_paste"].any()


def test_cluster_ids_do_not_depend_on_row_order():
    rows = [("p1", "a", "love this ❤️"), ("p2", "b", "so inspiring 🙌"), ("p3", "c", "love this ❤️")]
    first = add_signals(spaced(rows)).set_index("comment_id")["cluster_id"]
    again = add_signals(spaced(rows).iloc[::-1]).set_index("comment_id")["cluster_id"]
    assert first.sort_index().equals(again.sort_index())


def test_missing_and_empty_keys_stay_alone():
    out = add_signals(spaced([("p1", "a", None), ("p2", "b", None), ("p3", "c", "  ")]))
    assert out["cluster_id"].isna().all()
    assert out["cluster_size"].eq(1).all() and not out["copy_paste"].any()


def test_author_repeat_and_activity():
    out = add_signals(spaced([("p1", "bot", "amazing content 🔥🔥"),
                              ("p2", "bot", "amazing content 🔥🔥"),
                              ("p3", "bot", "nice post 👍"),
                              ("p1", "fan", "amazing content 🔥🔥"),
                              ("p1", None, "amazing content 🔥🔥")]))  # fmt: skip
    assert out["author_posts"].tolist()[:4] == [3, 3, 3, 1]
    assert out["author_comments"].tolist()[:4] == [3, 3, 3, 1]
    assert out["author_repeat_posts"].tolist()[:4] == [2, 2, 1, 1]
    assert out["author_repeat"].tolist() == [True, True, False, False, False]
    assert out["author_posts"].isna().tolist() == [False] * 4 + [True]
    assert out["cluster_authors"][0] == 2  # the null author is not counted


def test_burst_needs_k_comments_within_w_seconds_on_one_post():
    burst = [("p1", f"b{i}", f"text {i}", 20 * i) for i in range(6)]  # 6 in 100 s
    slow = [("p1", f"s{i}", f"slow {i}", 5000 + 50 * i) for i in range(5)]  # 5 in 200 s
    split = [(f"q{i}", f"x{i}", f"other {i}", i) for i in range(6)]  # 6 posts at once
    late = [("p1", "n", "no time", None)]
    out = add_signals(frame(burst + slow + split + late))
    assert out["in_burst"].tolist() == [True] * 6 + [False] * 12
    assert out["burst_size"].tolist()[:6] == [6] * 6
    assert out["burst_span_s"].tolist()[:6] == [100.0] * 6
    assert out["burst_size"][6:].eq(0).all() and out["burst_span_s"][6:].isna().all()


def test_burst_window_is_inclusive_and_configurable():
    rows = [("p1", f"a{i}", f"t{i}", 30 * i) for i in range(5)]  # 5 comments in exactly 120 s
    assert add_signals(frame(rows))["in_burst"].all()
    tight = SignalsConfig(burst_window_s=119)
    assert not add_signals(frame(rows), tight)["in_burst"].any()


def test_separate_bursts_on_one_post_are_separate_episodes():
    rows = [("p1", f"a{i}", f"t{i}", s) for i, s in enumerate([0, 5, 10, 15, 20, 900, 901, 902,
                                                                 903, 904, 905, 906])]  # fmt: skip
    out = add_signals(frame(rows))
    assert out["burst_size"].tolist() == [5] * 5 + [7] * 7


def test_missing_author_and_created_at_columns():
    df = pd.DataFrame({"post_id": ["p1", "p2", "p3"], "dedup_key": ["same text here"] * 3})
    out = add_signals(df)
    assert set(SIGNAL_COLUMNS) <= set(out.columns)
    assert out["copy_paste"].all() and out["cluster_authors"].eq(0).all()
    assert out["author_posts"].isna().all() and not out["author_repeat"].any()
    assert not out["in_burst"].any()


def test_input_is_not_mutated_and_required_columns_are_named():
    df = spaced([("p1", "a", "some text"), ("p2", "b", "some text")])
    before = df.copy()
    add_signals(df)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(ValueError, match="dedup_key"):
        add_signals(df.drop(columns=["dedup_key"]))


def test_empty_frame_gets_the_columns():
    out = add_signals(frame([]))
    assert len(out) == 0 and set(SIGNAL_COLUMNS) <= set(out.columns)


def test_signals_read_only_input_columns():
    df = spaced([("p1", "a", "the same words"), ("p2", "b", "the same words")])
    df["emoji_only"] = False
    full = add_signals(df)[list(SIGNAL_COLUMNS)]
    pd.testing.assert_frame_equal(add_signals(df[INPUT_COLUMNS])[list(SIGNAL_COLUMNS)], full)


def test_shared_emoji_only_text_is_not_copy_paste_but_a_repeating_author_is():
    rows = [("p1", "fan1", "fire fire fire"), ("p2", "fan2", "fire fire fire"),
            ("p3", "fan3", "fire fire fire"), ("p1", "bot", "fire fire fire"),
            ("p2", "bot", "fire fire fire")]  # fmt: skip
    df = spaced(rows)
    df["emoji_only"] = True
    out = add_signals(df)
    assert out["cluster_size"].eq(5).all() and not out["copy_paste"].any()
    assert out["author_repeat"].tolist() == [False, False, False, True, True]


@pytest.mark.parametrize(
    "kwargs", [{"jaccard": 0}, {"burst_min_comments": 0}, {"min_near_chars": 2}]
)
def test_config_rejects_nonsense(kwargs):
    with pytest.raises(ValueError, match="signals\\."):
        SignalsConfig(**kwargs)


def test_reasons_read_features_and_signals():
    df = pd.DataFrame(
        {
            "p_spam": [0.973, 0.2, np.nan],
            "n_url": [2, 1, 0],
            "n_mention": [1, 0, 0],
            "n_wallet": [1, 0, 0],
            "n_phone": [0, 1, 0],
            "emoji_only": [False, False, True],
            "copy_paste": [True, False, False],
            "cluster_posts": [7, 1, 1],
            "cluster_authors": [12, 1, 1],
            "author_repeat": [True, False, False],
            "author_repeat_posts": [5, 1, 1],
            "in_burst": [True, False, False],
            "burst_size": [14, 0, 0],
            "burst_span_s": [130.0, np.nan, np.nan],
        }
    )
    assert reasons_for(df).tolist() == [
        "p_spam 0.97; 2 links; mentions another account; wallet address; copy-paste: same text on "
        "7 posts by 12 authors; author repeats on 5 posts; burst: 14 comments in 2 min",
        "link; phone number",
        "emoji only",
    ]
    assert reasons_for(df.iloc[1]).tolist() == ["link; phone number"]
    assert reasons_for(df[["n_url"]].assign(p_spam=0.5)).tolist() == ["p_spam 0.50; 2 links",
                                                                      "p_spam 0.50; link",
                                                                      "p_spam 0.50"]  # fmt: skip


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3"]),
        st.sampled_from(["a", "b", None]),
        st.sampled_from(["hello there friend", "hello there friend!", "wow", None, "🔥"]),
        st.one_of(st.none(), st.integers(0, 600)),
    ),  # fmt: skip
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_invariants_on_random_frames(rows):
    out = add_signals(frame(rows))
    assert (out["cluster_posts"] <= out["cluster_size"]).all()
    assert (out["cluster_authors"] <= out["cluster_size"]).all()
    assert (out["burst_size"][out["in_burst"]] >= SignalsConfig().burst_min_comments).all()
    assert not (out["in_burst"] & out["created_at"].isna()).any()
    assert (out["author_repeat"] <= out["author_repeat_posts"].fillna(0).ge(2)).all()
    keyed = out[out["dedup_key"].notna()]
    # Exact copies always share a cluster, and a cluster's size is its number of rows.
    assert (keyed.groupby("dedup_key")["cluster_id"].nunique() == 1).all()
    sizes = keyed.groupby("cluster_id")["cluster_id"].transform("size")
    assert (keyed["cluster_size"] == sizes).all()
    authored = keyed.groupby("cluster_id")["author"].transform("count")
    assert (keyed["cluster_authored"] == authored).all()
    assert (out["cluster_authors"] <= out["cluster_authored"]).all()
    assert out["in_burst"].tolist() == brute_force_bursts(rows)


def brute_force_bursts(rows: list[tuple]) -> list[bool]:
    """In a burst: some window of burst_window_s seconds (inclusive) that starts at a comment
    on the same post holds >= burst_min_comments comments, this one among them."""
    config = SignalsConfig()
    out = []
    for post, *_, t in rows:
        times = [r[3] for r in rows if r[0] == post and r[3] is not None]
        windows = [s for s in times if t is not None and s <= t <= s + config.burst_window_s]
        out.append(any(sum(s <= u <= s + config.burst_window_s for u in times)
                       >= config.burst_min_comments for s in windows))  # fmt: skip
    return out


def _dedup_keys(texts: pd.Series) -> pd.Series:
    """The cleaning stage's keys when it exists, else a plain casefold (it is written alongside)."""
    try:
        from pipeline.clean import clean
    except ImportError:
        return texts.str.lower().str.strip()
    return texts.map(lambda t: clean(t).dedup_key)


def test_example_campaign_is_found_by_the_signals():
    records = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    df = pd.DataFrame(records)
    out = add_signals(df.assign(dedup_key=_dedup_keys(df["text"])))
    generic = out[out["planted"] == "generic_campaign"]
    genuine = out[out["planted"].isna()]
    assert len(generic) >= 60
    assert generic["copy_paste"].all() and (generic["cluster_posts"] >= 3).all()
    assert generic["in_burst"].mean() > 0.9 and genuine["in_burst"].mean() < 0.02
    assert out.loc[out["planted"].notna(), "author_repeat"].mean() > 0.5
    assert genuine["author_repeat"].mean() < 0.02


# Letters, digits, marks, underscores, spaces, punctuation and emoji: every class the two
# regexes split on.
_MIXED = st.text(st.sampled_from("ab\u00e9\u0301Z9_ .,!-\u4e2d\u0660\U0001f525\u200d"), max_size=40)


@settings(max_examples=400)
@given(_MIXED, st.integers(min_value=-1, max_value=8))
def test_enough_tests_stop_early_but_agree_with_counting(text, n):
    import re

    assert enough_word_chars(n)(text) == (len(re.findall(r"\w", text)) >= n)
    assert enough_words(n)(text) == (len(re.findall(r"[^\W\d_]+", text)) >= n)


def test_reasons_for_no_rows_is_empty():
    empty = pd.DataFrame({"p_spam": pd.Series([], dtype=float), "copy_paste": []})
    out = reasons_for(empty)
    assert len(out) == 0 and out.dtype == "string"


def test_copy_paste_reason_names_no_authors_where_the_export_has_none():
    posts, keys = ["p1", "p2", "p3"], ["check my page now"] * 3
    df = pd.DataFrame({"post_id": pd.array(posts, dtype="string"),
                       "dedup_key": pd.array(keys, dtype="string")})  # fmt: skip
    assert reasons_for(add_signals(df)).tolist() == ["copy-paste: same text on 3 posts"] * 3
