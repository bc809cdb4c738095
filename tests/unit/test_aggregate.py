"""Intervals, the corrected prevalence and group tables, checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.aggregate import (
    NO_RATES,
    NOT_ENOUGH,
    AggregateConfig,
    group_stats,
    top_clusters,
    worst_authors,
)
from pipeline.shares import (
    USELESS_TEST,
    ErrorRates,
    corrected_arrays,
    corrected_prevalence,
    wilson_arrays,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # centre = (0.8 + 1.96²/20) / (1 + 1.96²/10) = 0.99208 / 1.38416 = 0.716738
        # half = 1.96·sqrt(0.016 + 0.009604) / 1.38416 = 0.313624 / 1.38416 = 0.226581
        (8, 10, 0.490157, 0.943319),
        # k = 0: lo = 0 and hi = z² / (n + z²) = 3.8416 / 13.8416
        (0, 10, 0.0, 0.277540),
        # k = n: lo = n / (n + z²) = 10 / 13.8416
        (10, 10, 0.722460, 1.0),
    ],
)
def test_wilson_matches_hand_computation(k, n, lo, hi):
    assert wilson_interval(k, n) == pytest.approx((lo, hi), abs=1e-6)


def test_wilson_arrays_match_scalar_and_mark_impossible_counts():
    lo, hi = wilson_arrays([8, 0, 3, 5, -1], [10, 10, 0, 4, 10])
    assert (lo[0], hi[0]) == pytest.approx(wilson_interval(8, 10))
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_rogan_gladen_point_estimate():
    # (AP + Sp - 1) / (Se + Sp - 1) = (0.3 + 0.95 - 1) / (0.9 + 0.95 - 1) = 0.25 / 0.85
    result = corrected_prevalence(30, 100, 0.9, 0.95, 100, 200)
    assert result.estimate == pytest.approx(0.294118, abs=1e-6)
    assert result.note == ""


def test_lang_reiczigel_interval_matches_hand_computation():
    # Se' = 91/102 = 0.892157, Sp' = 191/202 = 0.945545, AP' = 31.9208/103.8416 = 0.307399
    # J' = Se' + Sp' - 1 = 0.837701, P' = (AP' + Sp' - 1) / J' = 0.301949
    # shift = 2z²(P'·Se'(1-Se')/102 - (1-P')·Sp'(1-Sp')/202) = 7.6832·0.00010688 = 0.000821
    # var = (AP'(1-AP')/103.8416 + P'²·0.000943265 + (1-P')²·0.000254901) / J'² = 0.0032213
    # interval = P' + shift ± 1.96·0.056756 = 0.302771 ± 0.111242
    result = corrected_prevalence(30, 100, 0.9, 0.95, 100, 200)
    assert (result.lo, result.hi) == pytest.approx((0.191529, 0.414013), abs=1e-5)


def test_known_error_rates_reduce_to_the_adjusted_wald_interval():
    # With Se and Sp measured on (nearly) infinitely many comments only the AP term is left:
    # (AP' ± z·sqrt(AP'(1-AP')/(n+z²)) + Sp - 1) / (Se + Sp - 1).
    z2 = 1.96**2
    ap = (30 + z2 / 2) / (100 + z2)
    half = 1.96 * math.sqrt(ap * (1 - ap) / (100 + z2))
    expected = ((ap - half - 0.05) / 0.85, (ap + half - 0.05) / 0.85)
    result = corrected_prevalence(30, 100, 0.9, 0.95, 10**12, 10**12)
    assert (result.lo, result.hi) == pytest.approx(expected, abs=1e-6)


def test_uncertain_error_rates_widen_the_interval():
    widths = [corrected_prevalence(30, 100, 0.9, 0.95, m, m) for m in (20, 100, 1000)]
    spans = [r.hi - r.lo for r in widths]
    assert spans[0] > spans[1] > spans[2]


def test_estimates_are_clipped_to_the_unit_interval():
    low = corrected_prevalence(0, 100, 0.9, 0.95, 100, 200)  # AP below the false-positive rate
    high = corrected_prevalence(100, 100, 0.9, 0.95, 100, 200)
    assert low.estimate == 0.0 and low.lo == 0.0 and 0 < low.hi < 0.1
    assert high.estimate == 1.0 and high.hi == 1.0


def test_useless_classifier_gives_nan_and_a_note():
    result = corrected_prevalence(30, 100, 0.5, 0.5, 100, 100)
    assert all(math.isnan(v) for v in result[:3])
    assert result.note == USELESS_TEST


def test_corrected_interval_covers_the_truth_in_simulation():
    # Each simulated group redraws the validation set too, as a new model training would.
    rng = np.random.default_rng(7)
    truth, n, se, sp, n_pos, n_neg = 0.2, 200, 0.9, 0.95, 100, 300
    covered = 0
    for _ in range(200):
        se_hat, sp_hat = rng.binomial(n_pos, se) / n_pos, rng.binomial(n_neg, sp) / n_neg
        k = rng.binomial(n, truth * se + (1 - truth) * (1 - sp))
        result = corrected_prevalence(k, n, se_hat, sp_hat, n_pos, n_neg)
        covered += result.lo <= truth <= result.hi
    assert covered / 200 >= 0.9


def test_between_creator_spread_widens_the_interval_by_hand():
    # docs/statistics.md section 4: v_se = 0.000943266 + 0.05^2, v_sp = 0.000254898 + 0.03^2,
    # shift = 7.6832 * (0.301949 * 0.003443266 - 0.698051 * 0.001154898) = 0.0017941,
    # Var' = (0.00205029 + 0.00031393 + 0.00056275) / 0.701743 = 0.00417101.
    result = corrected_prevalence(30, 100, 0.9, 0.95, 100, 200, 1.96, 0.05, 0.03)
    assert result.estimate == pytest.approx(0.2941, abs=1e-4)  # the point estimate is unchanged
    assert result.lo == pytest.approx(0.303743 - 1.96 * 0.064584, abs=1e-4)
    assert result.hi == pytest.approx(0.303743 + 1.96 * 0.064584, abs=1e-4)


def test_spread_restores_coverage_when_creators_differ():
    # Creators' own sensitivity/specificity scatter around the pooled rates (SD 0.06), as
    # measured across ScamSpot owners; the pooled rates themselves are measured precisely.
    rng = np.random.default_rng(11)
    truth, n, se, sp, sd = 0.1, 400, 0.94, 0.94, 0.06
    hits = {0.0: 0, sd: 0}
    for _ in range(300):
        se_c = min(rng.normal(se, sd), 1.0)
        sp_c = min(rng.normal(sp, sd), 1.0)
        k = rng.binomial(n, truth * se_c + (1 - truth) * (1 - sp_c))
        for spread in hits:
            r = corrected_prevalence(k, n, se, sp, 1500, 2300, 1.96, spread, spread)
            hits[spread] += r.lo <= truth <= r.hi
    assert hits[sd] / 300 >= 0.93
    assert hits[0.0] / 300 < 0.85  # the interval that ignores the spread is too narrow


def test_corrected_arrays_mark_empty_groups():
    est, lo, hi, note = corrected_arrays([0, 5], [0, 10], ErrorRates(0.9, 0.95, 100, 200))
    assert np.isnan([est[0], lo[0], hi[0]]).all() and not np.isnan(est[1])


def test_error_rates_from_manifest_and_validation():
    manifest = {
        "error_rates": {"sensitivity": 0.9, "specificity": 0.95, "n_pos": 120, "n_neg": 400}
    }
    assert ErrorRates.from_manifest(manifest) == ErrorRates(0.9, 0.95, 120, 400)
    with pytest.raises(ValueError, match="error_rates"):
        ErrorRates.from_manifest({"threshold": 0.5})
    with pytest.raises(ValueError, match="sensitivity"):
        ErrorRates(1.2, 0.9, 10, 10)
    with pytest.raises(ValueError, match="n_neg"):
        ErrorRates(0.9, 0.9, 10, 0)
    with pytest.raises(ValueError, match="min_n"):
        AggregateConfig(min_n=0)


def scored() -> pd.DataFrame:
    """Post a: 30 comments, 9 spam (6 in one copy-paste cluster); post b: 5 comments."""
    spam = ["spam"] * 9 + ["genuine"] * 21
    return pd.DataFrame(
        {
            "post_id": ["a"] * 30 + ["b"] * 5,
            "post_owner": ["owner1"] * 35,
            "author": [f"u{i % 4}" for i in range(30)] + ["u9"] * 5,
            "text": ["Amazing content 🔥"] * 6 + ["Wow 😍"] * 2 + [f"text {i}" for i in range(27)],
            "pred_label": spam + ["spam", "genuine", "genuine", "genuine", None],
            "copy_paste": [True] * 8 + [False] * 27,
            "cluster_id": ["c1"] * 6 + ["c2"] * 2 + [f"x{i}" for i in range(27)],
        }
    )


def test_group_stats_per_post():
    rates = ErrorRates(0.9, 0.95, 100, 200)
    stats = group_stats(scored(), by="post", rates=rates, min_n=20).set_index("post_id")
    a, b = stats.loc["a"], stats.loc["b"]
    assert (a["n"], a["n_flagged"], a["flagged_share"]) == (30, 9, pytest.approx(0.3))
    assert (a["wilson_lo"], a["wilson_hi"]) == pytest.approx(wilson_interval(9, 30))
    assert a["corrected_share"] == pytest.approx(0.25 / 0.85)
    assert a["corrected_lo"] < a["corrected_share"] < a["corrected_hi"]
    assert (a["copy_paste_share"], a["n_clusters"], a["top_cluster_id"]) == (
        pytest.approx(8 / 30), 2, "c1")  # fmt: skip
    assert a["status"] == "ok"
    # b: 4 labelled comments (one label is missing) is below min_n, so nothing is reported.
    assert b["n"] == 4 and b["status"] == NOT_ENOUGH
    assert (
        pd.isna(b["n_flagged"]) and b[["flagged_share", "wilson_lo", "corrected_hi"]].isna().all()
    )


def test_group_stats_by_owner_and_author_with_boolean_flags():
    df = scored().assign(pred_label=lambda d: d["pred_label"] == "spam")
    owner = group_stats(df, by="owner", min_n=1)
    assert owner["post_owner"].tolist() == ["owner1"]
    assert owner.loc[0, "n"] == 35 and owner.loc[0, "n_flagged"] == 10
    assert owner.loc[0, "note"] == NO_RATES and np.isnan(owner.loc[0, "corrected_share"])
    authors = group_stats(df, by="author", min_n=6).set_index("author")
    assert authors.loc["u0", "n"] == 8 and authors.loc["u9", "status"] == NOT_ENOUGH


def test_group_stats_reports_useless_rates_and_bad_arguments():
    stats = group_stats(scored(), rates=ErrorRates(0.4, 0.5, 50, 50), min_n=1)
    assert stats["corrected_share"].isna().all() and (stats["note"] == USELESS_TEST).all()
    with pytest.raises(ValueError, match="cannot group"):
        group_stats(scored(), by="country")
    with pytest.raises(ValueError, match="flag column"):
        group_stats(scored(), flag_col="p_label")


def test_group_stats_without_signal_columns():
    stats = group_stats(scored().drop(columns=["copy_paste", "cluster_id"]), min_n=1)
    assert stats["copy_paste_share"].isna().all() and stats["top_cluster_id"].isna().all()


def test_top_clusters_and_worst_authors():
    clusters = top_clusters(scored(), k=5)
    assert clusters["cluster_id"].tolist() == ["c1", "c2"]
    assert clusters.loc[0, ["size", "posts", "authors"]].tolist() == [6, 1, 4]
    assert clusters.loc[0, "example"] == "Amazing content 🔥"
    assert clusters.loc[0, "flagged_share"] == 1.0
    # u0 has 3 flagged; u1 and u2 have 2 each, u2 out of fewer comments (7 vs 8).
    authors = worst_authors(scored(), k=2)
    assert authors["author"].tolist() == ["u0", "u2"]
    assert authors.loc[0, ["comments", "flagged", "posts"]].tolist() == [8, 3, 1]


def test_correction_counts_at_the_threshold_its_rates_were_measured_at():
    p = [0.6] * 10 + [0.95] * 10 + [0.1] * 20
    df = pd.DataFrame({"post_id": ["a"] * 40, "p_spam": p})
    df["pred_label"] = np.where(df["p_spam"] >= 0.9, "spam", "genuine")
    counted = group_stats(df, "post", rates=ErrorRates(1.0, 1.0, 100, 100, 0.5), min_n=1)
    assert counted.loc[0, "flagged_share"] == 0.25  # what the decision threshold flags
    assert counted.loc[0, "corrected_share"] == pytest.approx(0.5)  # counted at 0.5
    decision = group_stats(df, "post", rates=ErrorRates(1.0, 1.0, 100, 100), min_n=1)
    assert decision.loc[0, "corrected_share"] == pytest.approx(0.25)


def test_correction_counts_and_divides_over_the_same_rows():
    # 10 unscored rows (no p_spam, labelled by the fallback) must not enter n: over the 30
    # scored rows, Rogan-Gladen gives (10/30 + 0.95 - 1) / (0.9 + 0.95 - 1) = 1/3.
    p = [0.99] * 10 + [np.nan] * 10 + [0.01] * 20
    df = pd.DataFrame({"post_id": ["a"] * 40, "p_spam": p,
                       "pred_label": ["spam"] * 20 + ["genuine"] * 20})  # fmt: skip
    rates = ErrorRates(0.9, 0.95, 100, 200, 0.5)
    row = group_stats(df, "post", rates=rates, min_n=1).iloc[0]
    assert row["n"] == 40  # the flagged share still counts every labelled row
    assert row["corrected_share"] == pytest.approx(1 / 3)
    assert row["corrected_lo"] <= row["corrected_share"] <= row["corrected_hi"]


def test_rates_measured_at_a_p_spam_threshold_need_p_spam():
    df = pd.DataFrame({"post_id": ["a"] * 40, "pred_label": ["spam"] * 10 + ["genuine"] * 30})
    row = group_stats(df, "post", rates=ErrorRates(0.94, 0.94, 100, 100, 0.5), min_n=1).iloc[0]
    assert np.isnan(row["corrected_share"]) and "no p_spam to count" in row["note"]
    assert row["flagged_share"] == 0.25


def test_most_common_breaks_ties_by_value_not_row_order():
    from pipeline.aggregate import most_common

    values = pd.Series(["bob", "alice", "bob", "alice", None])
    assert most_common(values) == most_common(values[::-1]) == "alice"
    assert most_common(pd.Series([None], dtype="string"), empty="-") == "-"


def test_rates_from_manifest_prefer_the_prevalence_entry():
    rates = {"sensitivity": 0.9, "specificity": 0.95, "n_pos": 50, "n_neg": 60}
    manifest = {"error_rates": {**rates, "sensitivity": 0.6}, "threshold": 0.93,
                "prevalence": {"threshold": 0.5, "error_rates": rates}}  # fmt: skip
    assert ErrorRates.from_manifest(manifest) == ErrorRates(0.9, 0.95, 50, 60, 0.5)
    manifest["prevalence"]["between_groups"] = {"sensitivity_sd": 0.05, "specificity_sd": 0.07}
    assert ErrorRates.from_manifest(manifest) == ErrorRates(0.9, 0.95, 50, 60, 0.5, 0.05, 0.07)
    del manifest["prevalence"]
    assert ErrorRates.from_manifest(manifest) == ErrorRates(0.6, 0.95, 50, 60, None)
    with pytest.raises(ValueError, match="specificity_sd"):
        ErrorRates(0.9, 0.9, 10, 10, None, 0.0, -0.1)
