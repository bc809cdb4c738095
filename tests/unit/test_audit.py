import math
from pathlib import Path

import pandas as pd
import pytest

from pipeline import shares
from pipeline.audit import (
    ALL_POSTS,
    NO_POSTS,
    NOT_ENOUGH,
    AuditConfig,
    diff_interval,
    load_audit_config,
    run_audit,
)
from pipeline.campaign import CampaignConfig, load_campaign, post_index, post_ref
from pipeline.config import ConfigError
from pipeline.shares import ErrorRates

REPO = Path(__file__).resolve().parents[2]


def scored(posts: dict[str, tuple[str, int, int]], **extra_columns) -> pd.DataFrame:
    """post_id -> (owner, comments, flagged): the first `flagged` comments are spam."""
    rows = [
        {"comment_id": f"{post}-{i}", "post_id": post, "post_owner": owner, "text": f"t{i}",
         "pred_label": "spam" if i < k else "genuine"}
        for post, (owner, n, k) in posts.items()
        for i in range(n)
    ]  # fmt: skip
    frame = pd.DataFrame(rows).astype("string")
    for name, mapping in extra_columns.items():
        frame[name] = frame["post_id"].map(mapping).astype("string")
    return frame


def campaign(*creators: tuple[str, list[str]], name: str = "Launch") -> CampaignConfig:
    raw = {"campaign": {"name": name, "brand": "Acme"}, "creators": [
        {"handle": h, "posts": p} for h, p in creators
    ]}  # fmt: skip
    from pipeline.config import from_dict

    return from_dict(CampaignConfig, raw)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "campaign.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entry", "ref"),
    [
        ("https://www.instagram.com/p/Cx1_-aB/", "Cx1_-aB"),
        ("https://instagram.com/p/Cx1aB?igsh=abc", "Cx1aB"),
        ("https://www.instagram.com/reel/Rl9/", "Rl9"),
        ("https://www.instagram.com/some.creator/p/Sc0de/", "Sc0de"),
        ("instagram.com/tv/TV1/", "TV1"),
        ("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s", "dQw4w9WgXcQ"),
        ("https://www.youtube.com/watch?feature=share&v=abc_DEF-123", "abc_DEF-123"),
        ("https://youtu.be/dQw4w9WgXcQ?si=x", "dQw4w9WgXcQ"),
        ("https://youtube.com/shorts/Sh0rt", "Sh0rt"),
        ("  17900000000000001  ", "17900000000000001"),
        ("Cx1aB", "Cx1aB"),
        ("HTTPS://WWW.Instagram.COM/P/Cx1aB/", "Cx1aB"),  # any case but the id's
        ("https://Youtu.be/dQw4w9WgXcQ", "dQw4w9WgXcQ"),
    ],
)
def test_post_ref_reads_ids_out_of_urls(entry, ref):
    assert post_ref(entry) == ref


def test_posts_match_by_id_shortcode_column_and_url():
    frame = scored(
        {"1790001": ("alice", 40, 4), "https://www.instagram.com/p/SCurl/": ("alice", 40, 4),
         "1790003": ("alice", 40, 4), "yt1": ("alice", 40, 4)},
        post_shortcode={"1790003": "SC3"},
        post_url={"yt1": "https://www.youtube.com/watch?v=yt1"},
    )  # fmt: skip
    entries = ["1790001", "https://instagram.com/p/SCurl", "https://www.instagram.com/p/SC3/",
               "https://youtu.be/yt1"]  # fmt: skip
    result = run_audit(frame, campaign(("alice", entries)))
    (verdict,) = result.creators
    assert set(verdict.post_ids) == {"1790001", "https://www.instagram.com/p/SCurl/", "1790003",
                                     "yt1"}  # fmt: skip
    assert result.warnings == ()
    assert post_index(frame)["SC3"] == {"1790003"}


def test_numeric_post_ids_are_matched_like_text():
    # pd.read_csv of a scored CSV makes numeric post ids int64; the campaign file has text.
    frame = scored({"17900000000000001": ("alice", 40, 20), "17900000000000002": ("alice", 40, 0)})
    frame["post_id"] = frame["post_id"].astype("int64")
    (verdict,) = run_audit(frame, campaign(("alice", ["17900000000000001"]))).creators
    assert verdict.campaign.n == 40 and verdict.share == pytest.approx(0.5)
    assert verdict.campaign.baseline_n == 40  # the campaign post stays out of the baseline


def test_missing_posts_are_warnings_not_errors():
    frame = scored({"p1": ("alice", 50, 5)})
    result = run_audit(frame, campaign(("alice", ["p1", "nope"]), ("bob", ["https://youtu.be/x"])))
    assert any("'nope'" in w and "alice" in w for w in result.warnings)
    assert any("youtu.be/x" in w and "bob" in w for w in result.warnings)
    alice, bob = result.creators
    assert alice.post_ids == ("p1",)
    assert (bob.verdict, bob.level, bob.share, bob.post_ids) == (NO_POSTS, -1, None, ())


@pytest.mark.parametrize(
    ("flagged", "band"),
    [(0, "clean"), (4, "clean"), (5, "some inauthentic engagement"), (14, "some inauthentic "
     "engagement"), (15, "substantial"), (29, "substantial"), (30, "severe"), (100, "severe")],
)  # fmt: skip
def test_verdict_bands_on_the_flagged_share_without_error_rates(flagged, band):
    frame = scored({"p1": ("alice", 100, flagged)})
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"]))).creators
    assert verdict.verdict == band
    assert verdict.measure == "flagged"
    assert verdict.share == pytest.approx(flagged / 100)
    assert any("raw flagged share" in n for n in verdict.notes)
    assert verdict.meaning == AuditConfig().bands[verdict.level].meaning


def test_verdict_uses_the_corrected_share_when_error_rates_are_known():
    rates = ErrorRates(sensitivity=0.8, specificity=0.95, n_pos=300, n_neg=900)
    frame = scored({"p1": ("alice", 200, 40)})
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"])), rates=rates).creators
    expected = shares.corrected_prevalence(40, 200, 0.8, 0.95, 300, 900)
    # Rogan-Gladen: (0.2 + 0.95 - 1) / (0.8 + 0.95 - 1) = 0.2
    assert verdict.share == pytest.approx(0.2) == pytest.approx(expected.estimate)
    assert (verdict.lo, verdict.hi) == pytest.approx((expected.lo, expected.hi))
    assert (verdict.measure, verdict.verdict) == ("corrected", "substantial")


def test_interval_spanning_bands_is_noted():
    frame = scored({"p1": ("alice", 40, 6)})  # 15%, interval about 7-29%
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"]))).creators
    assert verdict.verdict == "substantial"
    assert any("'some inauthentic engagement' to 'substantial'" in n for n in verdict.notes)


def test_too_few_comments_give_no_verdict_and_hide_post_shares():
    frame = scored({"p1": ("alice", 10, 9), "p2": ("alice", 100, 1)})
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"]))).creators
    assert (verdict.verdict, verdict.level, verdict.share) == (NOT_ENOUGH, -1, None)
    assert "10 comments" in verdict.meaning
    (post,) = verdict.posts
    assert (post.n, post.flagged_share, post.diff, post.note) == (10, None, None, NOT_ENOUGH)


def test_a_verdict_needs_min_comments_even_when_post_shares_are_shown():
    frame = scored({"p1": ("alice", 25, 20)})  # above min_post_comments, below min_comments
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"]))).creators
    assert (verdict.verdict, verdict.share) == (NOT_ENOUGH, None)
    assert verdict.posts[0].flagged_share == pytest.approx(0.8)


def test_min_comments_below_min_post_comments_still_gives_a_verdict():
    frame = scored({"p1": ("alice", 15, 9)})
    config = AuditConfig(min_comments=10)  # min_post_comments stays 20
    (verdict,) = run_audit(frame, campaign(("alice", ["p1"])), config).creators
    assert verdict.share == pytest.approx(0.6) and verdict.verdict == "severe"
    assert verdict.posts[0].flagged_share is None  # one post of 15 is still too small


def test_comments_without_a_post_id_stay_out_of_the_baseline():
    frame = scored({"c1": ("alice", 60, 30), "old": ("alice", 60, 3)})
    frame.loc[frame.index[:10], "post_id"] = pd.NA  # lost their post id
    (verdict,) = run_audit(frame, campaign(("alice", ["c1"]))).creators
    assert verdict.campaign.baseline_n == 60


def test_campaign_posts_are_compared_with_the_creators_other_posts():
    frame = scored(
        {"c1": ("alice", 100, 40), "c2": ("alice", 50, 5), "old1": ("Alice", 120, 6),
         "old2": ("@alice", 80, 4), "other": ("bob", 100, 90)}
    )  # fmt: skip
    (verdict,) = run_audit(frame, campaign(("@ALICE", ["c1", "c2"]))).creators
    pooled, c1, c2 = verdict.campaign, *verdict.posts
    assert pooled.post == ALL_POSTS
    assert (pooled.n, pooled.n_flagged, pooled.baseline_n) == (150, 45, 200)
    assert pooled.baseline_share == pytest.approx(10 / 200)
    assert pooled.diff == pytest.approx(45 / 150 - 10 / 200)
    assert pooled.diff_lo < pooled.diff < pooled.diff_hi
    assert pooled.diff_lo > 0  # clearly more spam on the campaign posts
    assert (c1.post, c1.diff) == ("c1", pytest.approx(0.40 - 0.05))
    assert c2.diff_lo < 0 < c2.diff_hi  # 10% vs 5% on 50 comments: not distinguishable
    assert verdict.notes == ("the model has no usable error rates, so the verdict uses the raw "
                             "flagged share", "the 95% interval runs from 'substantial' to "
                             "'severe'")  # fmt: skip


def test_no_baseline_is_a_note():
    frame = scored({"c1": ("alice", 60, 6)})
    (verdict,) = run_audit(frame, campaign(("alice", ["c1"]))).creators
    assert verdict.campaign.note == "no baseline"
    assert verdict.campaign.diff is None and verdict.campaign.baseline_share is None
    assert any("no other posts by alice" in n for n in verdict.notes)
    without_owner = run_audit(frame.drop(columns="post_owner"), campaign(("alice", ["c1"])))
    assert any("no post owner column" in n for n in without_owner.creators[0].notes)


def test_a_post_listed_under_the_wrong_creator_is_a_warning():
    frame = scored({"c1": ("bob", 60, 6)})
    result = run_audit(frame, campaign(("alice", ["c1"])))
    assert result.warnings == ("post 'c1' is listed for alice but the export says it was posted "
                               "by bob",)  # fmt: skip


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
        ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ],
)
def test_newcombe_interval_matches_the_published_examples(counts, expected):
    # Newcombe (1998), Stat Med 17:873, Table II, method 10 (hybrid score, no correction).
    assert diff_interval(*counts) == pytest.approx(expected, abs=1e-4)


def test_campaign_toml_round_trip(tmp_path):
    path = write(
        tmp_path,
        """
[campaign]
name = "Spring launch"
brand = "Acme"

[[creators]]
handle = "@alice"
posts = ["C1aaa", "https://www.instagram.com/p/C2bbb/"]

[[creators]]
handle = "bob"
posts = ["https://youtu.be/yt1"]
""",
    )
    config = load_campaign(path)
    assert config.campaign.name == "Spring launch"
    assert [c.handle for c in config.creators] == ["@alice", "bob"]
    assert config.creators[0].posts == ("C1aaa", "https://www.instagram.com/p/C2bbb/")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[campaign]\nname = "x"\n', "at least one [[creators]]"),
        ('[[creators]]\nhandle = "a"\nposts = ["p"]\n', "[campaign] table"),
        ('[campaign]\nname = "x"\ncolour = "red"\n[[creators]]\nhandle = "a"\nposts = ["p"]\n',
         "unknown key(s) colour"),
        ('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\npost = ["p"]\n',
         "creators[0]: unknown key(s) post"),
        ('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\nposts = []\n', "non-empty list"),
        ('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\nposts = ["p"]\n'
         '[[creators]]\nhandle = "@A"\nposts = ["q"]\n', "only once"),
        ('[campaign]\nname = "x"\n[[creators]]\nhandle = ""\nposts = ["p"]\n', "needs a handle"),
    ],
)  # fmt: skip
def test_bad_campaign_files_say_what_to_fix(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load_campaign(write(tmp_path, text))
    assert message in str(err.value)


def test_shipped_audit_config_matches_the_defaults():
    assert load_audit_config(REPO / "configs" / "audit.toml") == AuditConfig()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("bands=[{name='a', min_share=0.1, meaning='m'}]", "min_share 0 first"),
        ("bands=[{name='a', min_share=0.0, meaning='m'}, {name='b', min_share=0.0, meaning='m'}]",
         "strictly increasing"),
        ("bands=[{name='a', min_share=0.0, meaning='m'}, {name='a', min_share=0.2, meaning='m'}]",
         "unique"),
        ("bands=[{name='a', min_share=0.0, meaning=''}]", "non-empty name and meaning"),
        ("bands=[{name='a', min_share=0.0, meaning='m', colour='red'}]", "unknown key(s) colour"),
        ("min_comments=0", "min_comments and min_post_comments must be >= 1"),
        ("min_post_comments=0", "min_comments and min_post_comments must be >= 1"),
    ],
)  # fmt: skip
def test_bad_audit_configs_are_rejected(override, message):
    with pytest.raises(ConfigError) as err:
        load_audit_config(None, [override])
    assert message in str(err.value)


def test_band_edges():
    config = AuditConfig()
    assert [config.band(x) for x in (0.0, 0.0494, 0.05, 0.15, 0.2994, 0.3, 1.0)] == [
        0, 0, 1, 2, 2, 3, 3
    ]  # fmt: skip
    # A share is banded as the page shows it: 100 of 2,002 reads "5.0%", next to "from 5%".
    assert (config.band(100 / 2002), config.band(0.2996)) == (1, 3)
    assert math.isclose(config.bands[3].min_share, 0.30)


def test_campaign_post_ids_may_be_toml_integers(tmp_path):
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\n'
                        'posts = [3584967861136688380, "DU1ttB3ZlUf"]\n')  # fmt: skip
    assert load_campaign(campaign).creators[0].posts == ("3584967861136688380", "DU1ttB3ZlUf")
    campaign.write_text('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\nposts = [1.5e18]\n')
    with pytest.raises(ConfigError, match="write post ids in quotes"):
        load_campaign(campaign)
