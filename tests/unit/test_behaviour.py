"""Author and post behaviour features on small hand-made scored frames."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import behaviour, signals

PUB = "2026-03-01T12:00:00Z"


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(post, owner, author, text, p_generic, seconds after PUB) rows, plus signals."""
    df = pd.DataFrame(rows, columns=["post_id", "post_owner", "author", "dedup_key", "p_generic",
                                     "s"])  # fmt: skip
    t = pd.Timestamp(PUB) + pd.to_timedelta(df.pop("s"), unit="s")
    df["created_at"] = t.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    df["emoji_only"] = False
    df = df.astype({c: "string" for c in ("post_id", "post_owner", "author", "dedup_key")})
    return signals.add_signals(df)


@pytest.fixture
def scored() -> pd.DataFrame:
    bot = [(f"p{i}", "lena", "bot1", "amazing content", 0.9, 60 + i) for i in range(3)]
    burst = [("p0", "lena", f"bot{k}", "love this", 0.95, 100 + k) for k in range(2, 7)]
    fans = [("p0", "lena", "fan1", "what flour did you use", 0.05, 7200),
            ("p1", "lena", "fan1", "fire", 0.9, 9000),
            ("p2", "lena", "fan2", "my kids loved the orzo", 0.1, 20000),
            ("p2", "lena", None, "wow", 0.9, 30000)]  # fmt: skip
    return frame(bot + burst + fans)


def test_author_table(scored):
    table = behaviour.authors(scored, behaviour.generic_flags(scored, 0.5))
    assert table.loc["bot1", ["posts", "comments", "generic_posts"]].tolist() == [3, 3, 3]
    assert table.loc["bot1", "generic_share"] == 1.0
    assert table.loc["fan1", "generic_share"] == 0.5 and table.loc["fan1", "generic_posts"] == 1
    # bot2..bot6 posted "love this" 5 times on p0: copy-paste, in a burst of 6 within 46 s
    assert table.loc["bot2", "copy_paste_rate"] == 1.0
    assert table.loc["bot2", "burst_per_min"] == 6.0
    assert table.loc["fan2", "burst_per_min"] == 0.0
    assert len(table) == 8  # the null author is nobody's


def test_row_columns(scored):
    rows = behaviour.row_columns(scored, behaviour.generic_flags(scored, 0.5))
    assert rows["author_generic_posts"].iloc[0] == 3
    assert rows["author_generic_posts"].isna().iloc[-1]  # unknown author: no behaviour
    inside = scored["in_burst"].to_numpy()
    assert (rows.loc[inside, "burst_generic_share"] == 1.0).all()
    assert rows.loc[~inside, "burst_generic_share"].isna().all()


def test_post_table_uses_first_comment_when_no_publication_time(scored):
    posts = behaviour.posts(scored, behaviour.generic_flags(scored, 0.5))
    assert posts.loc["p0", "comments"] == 7
    assert posts.loc["p0", "generic_share"] == pytest.approx(6 / 7)
    assert posts.loc["p0", "early_generic_share"] == 1.0  # all 6 generic within minutes
    assert posts.loc["p2", "early_generic_share"] == pytest.approx(0.5)  # the 2nd after 8 h


def test_post_published_at_and_regulars(scored):
    late = scored.assign(post_published_at="2026-02-28T12:00:00Z")  # a day before
    config = behaviour.BehaviourConfig(early_minutes=10, regular_posts=3)
    posts = behaviour.posts(late, behaviour.generic_flags(late, 0.5), config)
    assert (posts["early_generic_share"] == 0).all()
    # bot1 is on all 3 of lena's posts: a regular; its share of p1's generic comments is 1/2
    assert posts.loc["p1", "regular_generic_share"] == pytest.approx(0.5)


def test_missing_columns_give_empty_behaviour():
    df = pd.DataFrame({"post_id": ["a", "b"], "dedup_key": ["x", "y"]})
    generic = behaviour.generic_flags(df, 0.5)
    assert not generic.any()
    rows = behaviour.row_columns(df, generic)
    assert rows.isna().all().all()
    assert behaviour.posts(df, generic)["generic_share"].tolist() == [0.0, 0.0]


def test_config_validation():
    with pytest.raises(ValueError, match="early_minutes"):
        behaviour.BehaviourConfig(early_minutes=0)
