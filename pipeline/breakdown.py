"""The fake share per group: spam plus coordinated generic, next to the verdict breakdown.

The fake share counts the two verdicts that mean bought or automated engagement (see
pipeline.verdict): `spam` (the classifier) and `coordinated generic` (generic text with a
behavioural signal). Its raw share and Wilson interval come from `aggregate.group_stats` with
a flag that is true for both. The error-rate correction (Rogan-Gladen) is only valid for the
classifier's own flag, whose error rates were measured; so the corrected fake share is the
corrected spam share plus the share of coordinated-generic comments that correction does not
already count, and its interval combines the two intervals' half-widths in quadrature. The
correction counts p_spam at its rates' threshold (0.5), not the decision threshold, so a
coordinated comment at p_spam 0.6 is in its count: adding it again would count it twice.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import aggregate, behaviour, verdict
from pipeline.aggregate import DEFAULTS
from pipeline.shares import ErrorRates, wilson_arrays

SEGMENTS = {
    "spam": verdict.SPAM,
    "coordinated": verdict.COORDINATED,
    "generic": verdict.GENERIC,
    "genuine": verdict.GENUINE,
}
FAKE_COLUMNS = ("n_fake", "fake_share", "fake_lo", "fake_hi", "fake_corrected",
                "fake_corrected_lo", "fake_corrected_hi")  # fmt: skip


def has_verdicts(df: pd.DataFrame) -> bool:
    return "verdict" in df.columns and df["verdict"].notna().any()


def verdict_shares(df: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per group: n_<segment> and <segment>_share for spam, coordinated, generic, genuine."""
    frame = pd.DataFrame({"key": df[key].astype("string"), "v": df["verdict"].astype("string")})
    counts = pd.crosstab(frame["key"], frame["v"]).reindex(columns=list(SEGMENTS.values()))
    counts = counts.fillna(0).astype(int)
    total = counts.sum(axis=1).where(lambda n: n > 0)
    out = pd.DataFrame(index=counts.index.rename(key))
    for name, value in SEGMENTS.items():
        out[f"n_{name}"] = counts[value]
        out[f"{name}_share"] = counts[value] / total
    return out


def fake_columns(
    df: pd.DataFrame, by: str, rates: ErrorRates | None, min_n: int = DEFAULTS.min_n,
    z: float = DEFAULTS.z,
) -> pd.DataFrame:  # fmt: skip
    """Per group: the FAKE_COLUMNS plus verdict_shares, indexed by the group key."""
    key = aggregate.GROUP_KEYS.get(by, by)
    fake = df.assign(_fake=verdict.is_fake(df))
    flagged = aggregate.group_stats(fake, by, "_fake", None, min_n, z).set_index(key)
    spam = aggregate.group_stats(df, by, "pred_label", rates, min_n, z).set_index(key)
    # Like every share of a group under min_n, the breakdown of a small group is not shown.
    shares = verdict_shares(df, key).reindex(flagged.index)
    shares = shares.mask(flagged["status"] != "ok")
    shares = shares.astype({f"n_{name}": "Int64" for name in SEGMENTS})
    out = pd.DataFrame(index=flagged.index)
    out["n_fake"] = flagged["n_flagged"]
    out["fake_share"], out["fake_lo"] = flagged["flagged_share"], flagged["wilson_lo"]
    out["fake_hi"] = flagged["wilson_hi"]
    extra = uncounted_coordinated(df, key, rates).reindex(flagged.index).fillna(0)
    extra = extra.mask(flagged["status"] != "ok")
    corrected = corrected_fake(spam, extra, flagged["n"], z)
    # The coordinated comments the estimated fake share adds to the corrected spam share.
    corrected["n_coordinated_added"] = extra.astype("Int64")
    return pd.concat([out, corrected, shares], axis=1)


def uncounted_coordinated(df: pd.DataFrame, key: str, rates: ErrorRates | None) -> pd.Series:
    """Per group: coordinated generic comments the spam correction does not already count.
    It counts p_spam >= its rates' threshold (0.5 for the shipped models), and a coordinated
    comment can score 0.5-0.865: below the decision threshold, yet counted once as spam."""
    if "p_spam" not in df.columns:  # group_stats gives no correction then (_applicable)
        rates = None
    flags = df["pred_label"].astype("string").eq("spam").fillna(False)
    spam = aggregate.counted(df, flags, rates)
    coordinated = df["verdict"].astype("string").eq(SEGMENTS["coordinated"]).fillna(False)
    return (coordinated & spam.ne(1)).astype(int).groupby(df[key].astype("string")).sum()


def corrected_fake(spam: pd.DataFrame, extra: pd.Series, n: pd.Series, z: float) -> pd.DataFrame:
    """Corrected spam share + the share of coordinated comments it does not count
    (`uncounted_coordinated`), so no comment is counted twice; half-widths added in
    quadrature."""
    k = extra.to_numpy(dtype=float)
    nn = n.to_numpy(dtype=float)
    lo_c, hi_c = wilson_arrays(k, nn, z)
    c = k / np.where(nn > 0, nn, np.nan)
    est = spam["corrected_share"].to_numpy(dtype=float)
    down = np.hypot(est - spam["corrected_lo"].to_numpy(dtype=float), c - lo_c)
    up = np.hypot(spam["corrected_hi"].to_numpy(dtype=float) - est, hi_c - c)
    total = est + c
    return pd.DataFrame(
        {"fake_corrected": np.clip(total, 0, 1), "fake_corrected_lo": np.clip(total - down, 0, 1),
         "fake_corrected_hi": np.clip(total + up, 0, 1)},
        index=spam.index,
    )  # fmt: skip


def add_fake(
    table: pd.DataFrame, df: pd.DataFrame, by: str, rates: ErrorRates | None, min_n: int
) -> pd.DataFrame:
    """A report group table (first column `group`) with the fake columns joined on."""
    if not has_verdicts(df):
        return table
    extra = fake_columns(df, by, rates, min_n)
    if by == "post":  # when the generic comments came, and from whom
        generic = behaviour.generic_flags(df, verdict.VerdictConfig().generic_threshold)
        timing = behaviour.posts(df, generic)[["early_generic_share", "regular_generic_share"]]
        # Like the other shares, none for a post under min_n (its fake columns are NA then).
        extra = extra.join(timing.reindex(extra.index).mask(extra["fake_share"].isna()))
    return table.join(extra, on="group")
