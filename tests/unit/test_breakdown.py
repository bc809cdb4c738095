"""The fake share (spam + coordinated generic) per group and the report's verdict breakdown."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pipeline import breakdown
from pipeline.shares import ErrorRates, corrected_arrays

RATES = ErrorRates(0.9, 0.95, 400, 400)


@pytest.fixture
def scored() -> pd.DataFrame:
    """Post a: 10 spam, 20 coordinated generic, 10 generic, 60 genuine; post b: 30 genuine."""
    verdicts = ["spam"] * 10 + ["coordinated generic"] * 20 + ["generic"] * 10 + ["genuine"] * 90
    df = pd.DataFrame({"post_id": ["a"] * 100 + ["b"] * 30, "verdict": verdicts})
    df["post_owner"] = "lena"
    df["pred_label"] = np.where(df["verdict"] == "spam", "spam", "genuine")
    df["p_spam"] = np.where(df["verdict"] == "spam", 0.9, 0.1)
    df["p_generic"] = np.where(df["verdict"].str.contains("generic"), 0.9, 0.1)
    return df


def test_fake_share_counts_spam_and_coordinated(scored):
    table = breakdown.fake_columns(scored, "post", RATES)
    a = table.loc["a"]
    assert a["n_fake"] == 30 and a["fake_share"] == pytest.approx(0.3)
    assert (a["n_spam"], a["n_coordinated"], a["n_generic"], a["n_genuine"]) == (10, 20, 10, 60)
    assert a[["spam_share", "coordinated_share", "generic_share", "genuine_share"]].sum() == 1
    assert a["fake_lo"] < 0.3 < a["fake_hi"]


def test_only_the_spam_part_is_corrected(scored):
    a = breakdown.fake_columns(scored, "post", RATES).loc["a"]
    spam, lo, hi, _ = corrected_arrays(np.array([10]), np.array([100]), RATES)
    assert a["fake_corrected"] == pytest.approx(spam[0] + 0.2)
    assert a["fake_corrected_lo"] < spam[0] + 0.2 - (spam[0] - lo[0])  # wider than spam alone
    assert a["fake_corrected_hi"] > spam[0] + 0.2 + (hi[0] - spam[0])


def test_a_coordinated_comment_the_correction_counts_is_not_added_again(scored):
    # The shipped models' rates count p_spam >= 0.5; the decision threshold is higher, so a
    # coordinated comment at 0.6 is no spam verdict, yet the corrected spam share counts it.
    rates = ErrorRates(0.9, 0.95, 400, 400, threshold=0.5)
    scored.loc[scored["verdict"] == "coordinated generic", "p_spam"] = 0.6
    a = breakdown.fake_columns(scored, "post", rates).loc["a"]
    spam, _, _, _ = corrected_arrays(np.array([30]), np.array([100]), rates)  # 10 + 20 counted
    assert a["fake_corrected"] == pytest.approx(spam[0])  # was spam[0] + 0.2
    assert a["fake_share"] == pytest.approx(0.3)


def test_small_groups_show_no_breakdown(scored):
    table = breakdown.fake_columns(scored, "post", RATES, min_n=50)
    assert table.loc["b", ["fake_share", "genuine_share"]].isna().all()
    assert pd.isna(table.loc["b", "n_genuine"])


def test_no_verdicts_leave_the_table_alone(scored):
    table = pd.DataFrame({"group": ["a"], "n": [100]})
    assert breakdown.add_fake(table, scored.drop(columns="verdict"), "post", None, 20) is table


def test_report_shows_stacked_bars_and_fake_columns(scored, tmp_path):
    from pipeline.report.render import build_report

    scored = scored.assign(
        created_at="2026-03-01T12:00:00Z", text="wow", author=[f"u{i}" for i in range(130)]
    )
    manifest = {"error_rates": {"sensitivity": 0.9, "specificity": 0.95, "n_pos": 400,
                                "n_neg": 400}, "threshold": 0.5}  # fmt: skip
    paths = build_report(scored, tmp_path, manifest=manifest, by=("post", "owner"))
    html = paths.html.read_text()
    assert html.count('class="seg-coordinated"') == 2  # post a and creator lena
    assert "coordinated generic" in html and "fake share" in html
    summary = json.loads(paths.summary.read_text())
    assert summary["overall"]["n_coordinated"] == 20
    assert summary["groups"]["post"]["rows"][0]["fake_share"] == pytest.approx(0.3)
    posts = pd.read_csv(paths.groups["post"])
    assert {"early_generic_share", "regular_generic_share", "coordinated_share"} <= set(posts)


def test_the_audit_names_the_share_it_counts(scored, tmp_path):
    from pipeline.audit import run_audit
    from pipeline.campaign import CampaignConfig
    from pipeline.config import from_dict
    from pipeline.report.render import build_report

    raw = {"campaign": {"name": "Launch", "brand": "Acme"},
           "creators": [{"handle": "lena", "posts": ["a"]}]}  # fmt: skip
    plan = from_dict(CampaignConfig, raw)
    scored = scored.assign(text="wow", author=[f"u{i}" for i in range(130)])
    for frame, counts in ((scored, "fake"), (scored.drop(columns="verdict"), "spam")):
        audit = run_audit(frame, plan)
        assert audit.counts == counts
        # Post a: 10 spam + 20 coordinated generic of 100; the spam flag alone says 10%.
        assert audit.creators[0].campaign.flagged_share == pytest.approx(
            0.3 if counts == "fake" else 0.1
        )
        html = build_report(frame, tmp_path / counts, audit=audit).html.read_text()
        assert ("baseline fake share" in html) == (counts == "fake")
        assert ("baseline flagged share" in html) == (counts == "spam")


def test_the_headline_names_the_coordinated_comments_it_adds(scored, tmp_path):
    from pipeline.report.render import build_report

    # 5 of the 20 coordinated comments score 0.6: the correction counts them as spam already.
    coordinated = scored.index[scored["verdict"] == "coordinated generic"]
    scored.loc[coordinated[:5], "p_spam"] = 0.6
    scored = scored.assign(text="wow", author=[f"u{i}" for i in range(130)])
    rates = {"sensitivity": 0.9, "specificity": 0.95, "n_pos": 400, "n_neg": 400}
    manifest = {"prevalence": {"threshold": 0.5, "error_rates": rates}, "threshold": 0.865}
    paths = build_report(scored, tmp_path, manifest=manifest, by=("post",))
    overall = json.loads(paths.summary.read_text())["overall"]
    assert (overall["n_coordinated"], overall["n_coordinated_added"]) == (20, 15)
    assert "+ 15 coordinated generic" in " ".join(paths.html.read_text().split())


def test_small_posts_show_no_generic_timing(scored):
    table = pd.DataFrame({"group": ["a", "b"], "n": [100, 30]})
    scored.loc[scored.index[-5:], ["verdict", "p_generic"]] = ["generic", 0.9]  # on post b
    scored = scored.assign(author=[f"u{i}" for i in range(130)],
                           created_at=pd.Timestamp("2026-03-01", tz="UTC"))  # fmt: skip
    table = breakdown.add_fake(table, scored, "post", RATES, min_n=50).set_index("group")
    assert table.loc["b", ["early_generic_share", "regular_generic_share"]].isna().all()
    assert table.loc["a", ["early_generic_share", "regular_generic_share"]].notna().all()


def test_a_scored_file_without_p_spam_or_with_some_verdicts_missing(scored):
    # Frames concatenated from runs with and without the generic head, or trimmed by hand.
    scored.loc[scored.index[-5:], "verdict"] = pd.NA
    for frame in (scored, scored.drop(columns="p_spam")):
        a = breakdown.fake_columns(frame, "post", RATES).loc["a"]
        assert a["n_fake"] == 30 and a["n_coordinated_added"] == 20


def test_flagged_csv_and_audit_evidence_hold_the_coordinated_generic_comments(scored, tmp_path):
    from pipeline.audit import run_audit
    from pipeline.campaign import CampaignConfig
    from pipeline.config import from_dict
    from pipeline.report.render import build_report

    texts = [f"spam script {i}" for i in range(10)] + [f"so nice wow {i}" for i in range(120)]
    scored = scored.assign(text=texts, author=[f"u{i}" for i in range(130)],
                           comment_id=[str(i) for i in range(130)])  # fmt: skip
    scored["p_generic"] = np.where(scored["verdict"] == "coordinated generic",
                                   np.linspace(0.7, 0.99, 130), scored["p_generic"])  # fmt: skip
    why = "generic text (p_generic 0.90); copy-paste: x"
    scored["verdict_reason"] = np.where(scored["verdict"] == "coordinated generic", why, "")
    raw = {"campaign": {"name": "Launch"}, "creators": [{"handle": "lena", "posts": ["a"]}]}
    audit = run_audit(scored, from_dict(CampaignConfig, raw))
    paths = build_report(scored, tmp_path, audit=audit)
    flagged = pd.read_csv(paths.flagged, dtype=str)
    # The fake share counts 30 comments on post a; flagged.csv had only the 10 spam.
    assert flagged["verdict"].tolist() == ["spam"] * 10 + ["coordinated generic"] * 20
    praise = flagged["p_generic"].iloc[10:].astype(float)
    assert praise.is_monotonic_decreasing  # most generic first
    (lena,) = json.loads(paths.summary.read_text())["audit"]["creators"]
    examples = lena["evidence"]["examples"]
    assert len(examples) == 5 and [e["verdict"] for e in examples].count("spam") == 2
    assert examples[-1]["reasons"].startswith("generic text (p_generic")
    html = paths.html.read_text()
    assert "followed by the 20 coordinated generic comments" in html
    assert "Comments counted as fake" in html


def test_without_error_rates_the_note_names_the_raw_share_it_bands(scored):
    from pipeline.audit import run_audit
    from pipeline.campaign import CampaignConfig
    from pipeline.config import from_dict

    raw = {"campaign": {"name": "Launch"}, "creators": [{"handle": "lena", "posts": ["a"]}]}
    plan = from_dict(CampaignConfig, raw)
    (fake,) = run_audit(scored, plan).creators
    (spam,) = run_audit(scored.drop(columns="verdict"), plan).creators
    assert any("raw fake share (spam + coordinated generic)" in n for n in fake.notes)
    assert any("raw flagged share" in n for n in spam.notes)
