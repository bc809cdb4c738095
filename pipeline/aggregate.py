"""Group statistics per post, owner or author: how much of the engagement looks fake.

A flagged share comes with a Wilson 95% interval. When the classifier's error rates are known,
the share is also corrected for misclassification (Rogan-Gladen, pipeline.shares).
docs/statistics.md has the formulas and sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline.config import ConfigError
from pipeline.shares import Z95, ErrorRates, corrected_arrays, wilson_arrays
from pipeline.values import parse_flags

GROUP_KEYS = {"post": "post_id", "owner": "post_owner", "author": "author"}
NOT_ENOUGH = "not enough comments"
NO_RATES = "no error rates: corrected share not computed"
_HIDDEN_WHEN_SMALL = (
    "n_flagged",
    "flagged_share",
    "wilson_lo",
    "wilson_hi",
    "corrected_share",
    "corrected_lo",
    "corrected_hi",
    "copy_paste_share",
    "n_clusters",
    "top_cluster_id",
)


@dataclass(frozen=True)
class AggregateConfig:
    # Below this a share's 95% interval is wider than +-0.2 and reads as noise in a report.
    min_n: int = 20
    z: float = Z95

    def __post_init__(self) -> None:
        if self.min_n < 1:
            raise ConfigError(f"aggregate.min_n must be >= 1, got {self.min_n}")
        if not 0 < self.z < 10:
            raise ConfigError(f"aggregate.z must be a normal quantile such as 1.96, got {self.z}")


DEFAULTS = AggregateConfig()


def group_stats(
    df: pd.DataFrame,
    by: str = "post",
    flag_col: str = "pred_label",
    rates: ErrorRates | None = None,
    min_n: int = DEFAULTS.min_n,
    z: float = DEFAULTS.z,
) -> pd.DataFrame:
    """One row per post / owner / author with shares, intervals and copy-paste counts.

    `flag_col` must be the classifier's own prediction when `rates` is given: the correction
    is only valid for the errors that were measured.
    """
    key = _group_key(df, by)
    rates, no_rates = _applicable(df, rates)
    frame = pd.DataFrame({"key": df[key].astype("string"), "flag": _flags(df, flag_col)})
    frame["count"] = counted(df, frame["flag"], rates)
    frame["copy"], frame["cluster"] = _copy_paste(df)
    groups = frame.groupby("key", dropna=True, sort=True)
    out = pd.DataFrame({"n": groups["flag"].count(), "n_flagged": groups["flag"].sum()})
    out["flagged_share"] = out["n_flagged"] / out["n"].where(out["n"] > 0)
    out["wilson_lo"], out["wilson_hi"] = wilson_arrays(out["n_flagged"], out["n"], z)
    # k and n of the correction over the same rows: those its counting rule could be read on.
    k, n = groups["count"].sum(), groups["count"].count()
    corrected, note = _corrected(k, n, rates, z, no_rates)
    out = out.assign(**corrected)
    out["copy_paste_share"] = groups["copy"].mean()
    out["n_clusters"] = groups["cluster"].nunique()
    out["top_cluster_id"] = _top_cluster(frame).reindex(out.index).astype("string")
    out["status"] = np.where(out["n"] >= min_n, "ok", NOT_ENOUGH)
    out["note"] = note
    return _hide_small(out).rename_axis(key).reset_index()


def top_clusters(df: pd.DataFrame, k: int = 10, flag_col: str = "pred_label") -> pd.DataFrame:
    """The k largest copy-paste clusters with size, posts, authors, flagged share, example."""
    copy, cluster = _copy_paste(df)
    rows = df.assign(_cluster=cluster, _flag=_flags(df, flag_col))[copy.fillna(0) > 0]
    groups = rows.groupby("_cluster")
    out = pd.DataFrame(
        {
            "size": groups.size(),
            "posts": _nunique(groups, rows, "post_id"),
            "authors": _nunique(groups, rows, "author"),
            "flagged_share": groups["_flag"].mean(),
        }
    )
    out = out.rename_axis("cluster_id").reset_index()
    out = out.sort_values(["size", "cluster_id"], ascending=[False, True]).head(k)
    text = next((c for c in ("clean_text", "text", "dedup_key") if c in df), None)
    examples = rows[rows["_cluster"].isin(out["cluster_id"])].groupby("_cluster")[text]
    out["example"] = out["cluster_id"].map(examples.agg(most_common)).astype("string")
    return out.reset_index(drop=True)


def worst_authors(
    df: pd.DataFrame, k: int = 10, flag_col: str = "pred_label", min_comments: int = 2
) -> pd.DataFrame:
    """Authors with the most flagged comments: author, comments, flagged, flagged_share, posts."""
    rows = df.assign(_flag=_flags(df, flag_col)).dropna(subset=["author"])
    groups = rows.groupby("author")
    out = pd.DataFrame(
        {
            "comments": groups.size(),
            "flagged": groups["_flag"].sum(),
            "flagged_share": groups["_flag"].mean(),
            "posts": _nunique(groups, rows, "post_id"),
        }
    )
    out = out[out["comments"] >= min_comments].astype({"flagged": "int64"})
    out = out.rename_axis("author").reset_index()
    order = ["flagged", "flagged_share", "comments", "author"]
    out = out.sort_values(order, ascending=[False, False, False, True]).head(k)
    return out.reset_index(drop=True)


def _group_key(df: pd.DataFrame, by: str) -> str:
    key = GROUP_KEYS.get(by, by)
    if key not in df.columns:
        raise ValueError(f"cannot group by {by!r}: column {key!r} missing; use {list(GROUP_KEYS)}")
    return key


def _flags(df: pd.DataFrame, flag_col: str, positive: str = "spam") -> pd.Series:
    """1.0 flagged, 0.0 not, NaN unknown; accepts label names or booleans."""
    if flag_col not in df.columns:
        raise ValueError(f"flag column {flag_col!r} missing; score the comments first")
    col = df[flag_col]
    if pd.api.types.is_bool_dtype(col) or pd.api.types.is_numeric_dtype(col):
        values = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(np.where(np.isnan(values), np.nan, values > 0), index=col.index)
    return (col.astype("string").str.casefold() == positive).astype(float).where(col.notna())


def _copy_paste(df: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """(copy_paste as 1.0/0.0/NaN, cluster_id only where copy_paste) for the signals columns."""
    if "copy_paste" not in df.columns or "cluster_id" not in df.columns:
        nan = pd.Series(np.nan, index=df.index)
        return nan, nan.astype("string")
    copy = parse_flags(df["copy_paste"])
    return copy.astype(float), df["cluster_id"].astype("string").where(copy.fillna(False))


def _applicable(df: pd.DataFrame, rates: ErrorRates | None) -> tuple[ErrorRates | None, str]:
    """(the rates, or None with the reason): rates measured at a p_spam threshold cannot
    correct a table without p_spam; applied to its decision-threshold flags, they would
    correct one counting rule with another rule's error rates."""
    if rates is not None and rates.threshold is not None and "p_spam" not in df.columns:
        return None, f"error rates measured at p_spam >= {rates.threshold:g}; no p_spam to count"
    return rates, NO_RATES


def counted(df: pd.DataFrame, flags: pd.Series, rates: ErrorRates | None) -> pd.Series:
    """What the correction counts: p_spam at or above the rates' counting threshold, or the
    flags themselves when the rates belong to the decision threshold."""
    if rates is None or rates.threshold is None:
        return flags
    p = pd.to_numeric(df["p_spam"], errors="coerce")
    return (p >= rates.threshold).astype(float).where(p.notna())


def _corrected(k: pd.Series, n: pd.Series, rates: ErrorRates | None, z: float, why_not: str):
    names = ("corrected_share", "corrected_lo", "corrected_hi")
    if rates is None:
        return dict.fromkeys(names, np.nan), why_not
    *values, note = corrected_arrays(k, n, rates, z)
    return dict(zip(names, values, strict=True)), note


def _top_cluster(frame: pd.DataFrame) -> pd.Series:
    """Per group, the copy-paste cluster with most rows (ties: smallest id, for stability)."""
    sizes = frame.dropna(subset=["cluster"]).groupby(["key", "cluster"]).size()
    ranked = sizes.rename("size").reset_index()
    ranked = ranked.sort_values(["key", "size", "cluster"], ascending=[True, False, True])
    return ranked.drop_duplicates("key").set_index("key")["cluster"]


def _hide_small(out: pd.DataFrame) -> pd.DataFrame:
    """Blank every number of a group below min_n: a share of 3 comments is not a finding."""
    small = out["status"] != "ok"
    out = out.astype({"n_flagged": "Int64", "n_clusters": "Int64"})
    for col in _HIDDEN_WHEN_SMALL:
        out[col] = out[col].mask(small)
    return out


def _nunique(groups, rows: pd.DataFrame, col: str) -> pd.Series:
    if col not in rows.columns:
        return pd.Series(0, index=groups.size().index)
    return groups[col].nunique()


def most_common(values: pd.Series, empty: Any = "") -> Any:
    """The most frequent value; ties go to the smallest, so the answer does not depend on
    the order of the rows (value_counts alone keeps the first one met)."""
    counts = values.dropna().value_counts()
    if counts.empty:
        return empty
    return min(counts.index[counts.to_numpy() == counts.iloc[0]])
