"""Author and post behaviour around generic comments: what makes "🔥" from a bot look unlike
"🔥" from a fan.

A generic comment (high p_generic) says nothing about who wrote it. Bought engagement shows
in behaviour: the same accounts leaving generic comments under post after post, pasting the
same text, and arriving in bursts minutes after publication. These pure functions read a
scored frame that already carries the signals columns (pipeline.signals: copy_paste,
in_burst, burst_size, burst_span_s) and never recompute them. Where the export has no author
or timestamps, the columns that need them come out null.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import ConfigError
from pipeline.reasons import number_column
from pipeline.signals import flag_column, text_column

ROW_COLUMNS = ("author_generic_posts", "author_generic_share", "burst_generic_share")


@dataclass(frozen=True)
class BehaviourConfig:
    # "The first minutes after publication": bot campaigns land here, fans trickle in later.
    early_minutes: float = 15.0
    # An author on this many of one creator's posts is a regular (a fan or a bot).
    regular_posts: int = 3

    def __post_init__(self) -> None:
        if self.early_minutes <= 0:
            raise ConfigError(f"behaviour.early_minutes must be > 0, got {self.early_minutes}")
        if self.regular_posts < 2:
            raise ConfigError(f"behaviour.regular_posts must be >= 2, got {self.regular_posts}")


def generic_flags(df: pd.DataFrame, threshold: float) -> pd.Series:
    """True where p_generic >= threshold; False where it is missing (no generic head)."""
    if "p_generic" not in df:
        return pd.Series(False, index=df.index)
    return pd.to_numeric(df["p_generic"], errors="coerce").ge(threshold).fillna(False)


def authors(df: pd.DataFrame, generic: pd.Series) -> pd.DataFrame:
    """One row per author: posts, comments, generic_posts, generic_share, copy_paste_rate and
    burst_per_min (the fastest burst they took part in, comments per minute)."""
    frame = _frame(df, generic).dropna(subset=["author"])
    by = frame.groupby("author", sort=True)
    out = pd.DataFrame({"posts": by["post"].nunique(), "comments": by.size()})
    gen_posts = frame[frame["generic"]].groupby("author")["post"].nunique()
    out["generic_posts"] = gen_posts.reindex(out.index).fillna(0).astype(int)
    out["generic_share"] = by["generic"].mean()
    out["copy_paste_rate"] = by["copy"].mean()
    out["burst_per_min"] = by["burst_rate"].max().fillna(0.0)
    return out


def row_columns(df: pd.DataFrame, generic: pd.Series) -> pd.DataFrame:
    """Per comment: its author's generic posts and generic share (null for unknown authors)
    and the generic share of the burst it is in (null outside bursts)."""
    table = authors(df, generic)
    author = text_column(df, "author")
    out = pd.DataFrame(index=df.index)
    out["author_generic_posts"] = author.map(table["generic_posts"]).astype("Int64")
    out["author_generic_share"] = author.map(table["generic_share"]).astype("Float64")
    out["burst_generic_share"] = _burst_generic_share(_frame(df, generic))
    return out


def posts(
    df: pd.DataFrame, generic: pd.Series, config: BehaviourConfig = BehaviourConfig()
) -> pd.DataFrame:
    """One row per post: comments, generic_share, early_generic_share (of its generic comments,
    the share within `early_minutes` of publication) and regular_generic_share (the share by
    authors seen on >= `regular_posts` of the creator's posts)."""
    frame = _frame(df, generic).assign(early=_early(df, config), regular=_regular(df, config))
    by = frame.groupby("post", sort=True)
    gen = frame[frame["generic"]].groupby("post")
    out = pd.DataFrame({"comments": by.size(), "generic_share": by["generic"].mean()})
    out["early_generic_share"] = gen["early"].mean()
    out["regular_generic_share"] = gen["regular"].mean()
    return out.rename_axis("post_id")


def _frame(df: pd.DataFrame, generic: pd.Series) -> pd.DataFrame:
    """The columns behaviour reads, on the frame's index, with safe defaults when missing."""
    size, span = number_column(df, "burst_size"), number_column(df, "burst_span_s")
    span_min = (span / 60).clip(lower=1.0)  # a burst within a minute: /1
    in_burst = flag_column(df, "in_burst")
    return pd.DataFrame({
        "post": text_column(df, "post_id"), "author": text_column(df, "author"),
        "generic": np.asarray(generic, dtype=bool), "copy": flag_column(df, "copy_paste"),
        "burst": in_burst, "size": size, "span": span,
        "start": number_column(df, "burst_start_s"),
        "burst_rate": (size / span_min).where(in_burst),
    }, index=df.index)  # fmt: skip


def _burst_generic_share(frame: pd.DataFrame) -> pd.Series:
    # An episode is its post and start; files scored before burst_start_s existed fall back to
    # (post, size, span), which two equal bursts on one post share.
    inside = frame[frame["burst"].to_numpy()]
    episode = inside["start"] if inside["start"].notna().any() else inside["size"]
    keys = [inside["post"].fillna(""), episode.fillna(-1), inside["span"].fillna(-1)]
    share = inside["generic"].astype(float).groupby(keys).transform("mean").to_numpy()
    out = np.full(len(frame), np.nan)
    out[np.flatnonzero(frame["burst"].to_numpy())] = share  # positions: the index may repeat
    return pd.Series(out, index=frame.index).astype("Float64")


def _early(df: pd.DataFrame, config: BehaviourConfig) -> np.ndarray:
    """Comments within `early_minutes` of publication (post_published_at, else first comment)."""
    created = _time(df, "created_at")
    first = created.groupby(text_column(df, "post_id").fillna("")).transform("min")
    published = _time(df, "post_published_at").fillna(first)
    delay = (created - published).dt.total_seconds()
    return (delay <= config.early_minutes * 60).to_numpy()


def _regular(df: pd.DataFrame, config: BehaviourConfig) -> np.ndarray:
    """Comments by authors seen on >= regular_posts posts of the same creator."""
    frame = pd.DataFrame(
        {
            "owner": text_column(df, "post_owner").fillna(""),
            "author": text_column(df, "author"),
            "post": text_column(df, "post_id"),
        }  # fmt: skip
    )
    seen = frame.groupby(["owner", "author"])["post"].transform("nunique")
    return (seen.fillna(0) >= config.regular_posts).to_numpy()


def _time(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_datetime(text_column(df, col), utc=True, errors="coerce", format="ISO8601")
