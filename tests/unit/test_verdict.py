"""The bot verdict on hand-made scored frames: each rule, its reason, and its precedence."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import signals, verdict
from pipeline.verdict import COORDINATED, GENERIC, GENUINE, SPAM, VerdictConfig

DEFAULT = VerdictConfig()


def judged(rows: list[tuple], config: VerdictConfig = DEFAULT) -> pd.DataFrame:
    """(post, author, text, p_spam, p_generic, minutes after noon) rows -> verdicts."""
    df = pd.DataFrame(rows, columns=["post_id", "author", "dedup_key", "p_spam", "p_generic",
                                     "m"])  # fmt: skip
    t = pd.Timestamp("2026-03-01T12:00:00Z") + pd.to_timedelta(df.pop("m"), unit="min")
    df["created_at"] = t.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["emoji_only"] = df["dedup_key"].str.startswith("fire")
    df["pred_label"] = ["spam" if p >= 0.5 else "genuine" for p in df["p_spam"]]
    df = df.astype({c: "string" for c in ("post_id", "author", "dedup_key")})
    return verdict.add_verdict(signals.add_signals(df), config).set_index("author")


def test_each_verdict_with_its_reason():
    out = judged([
        ("p1", "bot", "nice post", 0.1, 0.9, 5), ("p2", "bot", "love this", 0.1, 0.9, 600),
        ("p1", "fan", "fire", 0.1, 0.95, 300),
        ("p1", "scam", "dm me to earn 5k", 0.99, 0.9, 100),
        ("p2", "reader", "which flour did you use", 0.05, 0.02, 900),
    ])  # fmt: skip
    assert out["verdict"].to_dict() == {"bot": COORDINATED, "fan": GENERIC, "scam": SPAM,
                                        "reader": GENUINE}  # fmt: skip
    assert out.loc["scam", "verdict_reason"] == "spam classifier: p_spam 0.99"
    assert "author wrote generic comments on 2 posts" in out["verdict_reason"].iloc[0]
    assert out.loc["fan", "verdict_reason"].endswith("with no coordination signal")
    assert out.loc["reader", "verdict_reason"] == ""


def test_a_fan_with_mostly_real_comments_is_not_coordinated():
    rows = [("p1", "fan", "fire", 0.0, 0.95, 0), ("p2", "fan", "fire", 0.0, 0.95, 900),
            ("p3", "fan", "how long in the oven", 0.0, 0.1, 1800),
            ("p4", "fan", "my kids loved it", 0.0, 0.1, 2700)]  # fmt: skip
    assert set(judged(rows)["verdict"]) == {GENERIC, GENUINE}
    loose = VerdictConfig(author_min_generic_share=0.5)
    assert judged(rows, loose)["verdict"].iloc[0] == COORDINATED


def test_copy_paste_cluster_is_a_signal_and_can_be_switched_off():
    text = "great post keep it up, love it"  # 7 words: not a coincidence of stock phrasing
    rows = [(f"p{i}", f"a{i}", text, 0.0, 0.9, 100 * i) for i in range(3)]
    out = judged(rows)
    assert (out["verdict"] == COORDINATED).all()
    assert "copy-paste: same text on 3 posts by 3 authors" in out["verdict_reason"].iloc[0]
    assert (judged(rows, VerdictConfig(use_copy_paste=False))["verdict"] == GENERIC).all()


def test_a_stock_phrase_from_many_one_off_fans_is_not_copy_paste_evidence():
    fans = [(f"p{i}", f"fan{i}", "wow so cool", 0.0, 0.9, 600 * i) for i in range(6)]
    assert (judged(fans)["verdict"] == GENERIC).all()
    assert (judged(fans, VerdictConfig(copy_paste_min_words=3))["verdict"] == COORDINATED).all()
    # Two accounts pasting it on six posts: 3 comments per author, the cluster counts.
    bots = [(f"p{i}", f"bot{i % 2}", "wow so cool", 0.0, 0.9, 600 * i) for i in range(6)]
    out = judged(bots, VerdictConfig(author_min_generic_posts=9))  # author signal silenced
    assert (out["verdict"] == COORDINATED).all()
    assert "copy-paste: same text on 6 posts by 2 authors" in out["verdict_reason"].iloc[0]


def test_comments_without_an_author_do_not_make_a_cluster_look_repeated():
    # Six anonymous comments and two fans, one comment each: nobody is seen repeating it.
    rows = [(f"p{i}", f"fan{i}" if i < 2 else None, "wow amazing", 0.0, 0.9, 600 * i)
            for i in range(8)]  # fmt: skip
    out = judged(rows, VerdictConfig(author_min_generic_posts=9))
    assert out["cluster_authored"].eq(2).all() and out["cluster_size"].eq(8).all()
    assert (out["verdict"] == GENERIC).all()
    # One of the two fans pasting it on a third post is 3 comments by 2 authors: repeated.
    again = judged([*rows, ("p8", "fan0", "wow amazing", 0.0, 0.9, 9000)],
                   VerdictConfig(author_min_generic_posts=9))  # fmt: skip
    assert (again["verdict"] == COORDINATED).all()


@pytest.mark.parametrize("field", ["copy_paste_min_per_author", "copy_paste_min_words"])
def test_copy_paste_settings_are_validated(field):
    with pytest.raises(ValueError, match=f"verdict.{field}"):
        VerdictConfig(**{field: 0})


def test_only_a_mostly_generic_burst_counts():
    generic_burst = [("p1", f"a{k}", f"wow {k}", 0.0, 0.9, k * 0.2) for k in range(5)]
    out = judged(generic_burst)
    assert (out["verdict"] == COORDINATED).all()
    assert "burst of 5 comments, 100% generic" in out["verdict_reason"].iloc[0]
    # A busy organic minute: one generic comment among specific ones stays `generic`.
    organic = [("p1", f"a{k}", f"specific remark {k}", 0.0, 0.1, k * 0.2) for k in range(4)]
    out = judged(organic + [("p1", "fan", "wow", 0.0, 0.9, 0.5)])
    assert out.loc["fan", "verdict"] == GENERIC


def test_threshold_and_missing_generic_head():
    rows = [(f"p{i}", "bot", "nice post", 0.0, 0.6, 100 * i) for i in range(2)]
    assert (judged(rows, VerdictConfig(generic_threshold=0.7))["verdict"] == GENUINE).all()
    no_head = judged(rows).drop(columns="p_generic").reset_index()
    again = verdict.add_verdict(no_head)
    assert (again["verdict"] == GENUINE).all()  # without a generic head nothing is generic


def test_spam_wins_and_fake_counts_spam_and_coordinated():
    out = judged([("p1", "x", "nice post", 0.9, 0.9, 0), ("p2", "x", "nice post", 0.1, 0.9, 9)])
    assert out["verdict"].tolist() == [SPAM, COORDINATED]
    assert verdict.is_fake(out).tolist() == [True, True]


def test_config_validation():
    with pytest.raises(ValueError, match="generic_threshold"):
        VerdictConfig(generic_threshold=0)
    with pytest.raises(ValueError, match="author_min_generic_posts"):
        VerdictConfig(author_min_generic_posts=1)


def test_a_frame_without_rows_gets_the_verdict_columns():
    out = judged([])
    assert len(out) == 0 and {"verdict", "verdict_reason"} <= set(out.columns)
