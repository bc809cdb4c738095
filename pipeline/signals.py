"""Export-wide coordination signals: copy-paste clusters, repeat authors and comment bursts.

One bot comment often looks harmless; a campaign shows up as the same text on many posts, the
same accounts pasting it again and again, and dozens of comments landing within a minute.
Every function reads a cleaned (and usually scored) frame and returns new columns; the input
frame is never mutated. Work per row is vectorised; Python loops run over distinct texts only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from pipeline import duplicates, neardup
from pipeline.config import ConfigError
from pipeline.values import parse_flags

# What add_signals reads (post_owner and the text itself are not needed) and what it adds.
INPUT_COLUMNS = ["post_id", "comment_id", "author", "created_at", "dedup_key", "emoji_only"]
SIGNAL_COLUMNS = (
    "duplicate_record",
    "cluster_id", "cluster_size", "cluster_posts", "cluster_authors", "cluster_authored",
    "copy_paste",
    "author_posts", "author_comments", "author_repeat_posts", "author_repeat",
    "in_burst", "burst_size", "burst_span_s", "burst_start_s",
)  # fmt: skip


@dataclass(frozen=True)
class SignalsConfig:
    jaccard: float = 0.8  # near-duplicate threshold on character shingles of dedup_key
    shingle_chars: int = 3
    num_perm: int = 128
    seed: int = 1
    # Jaccard over a handful of characters is noise, so short keys only cluster exactly.
    min_near_chars: int = 12
    # Real fans repeat "🔥" and "ok" everywhere; a text needs this many word characters
    # before repeating it counts as coordination.
    min_signal_chars: int = 3
    min_cluster_size: int = 3
    min_cluster_posts: int = 2
    min_cluster_authors: int = 2
    burst_window_s: int = 120
    burst_min_comments: int = 5
    reason_min_p_spam: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.jaccard <= 1.0:
            raise ConfigError(f"signals.jaccard must be in (0, 1], got {self.jaccard}")
        if not 0.0 <= self.reason_min_p_spam <= 1.0:
            raise ConfigError(
                f"signals.reason_min_p_spam must be in [0, 1], got {self.reason_min_p_spam}"
            )
        counts = ("shingle_chars", "num_perm", "min_cluster_size", "min_cluster_posts",
                  "min_cluster_authors", "burst_window_s", "burst_min_comments")  # fmt: skip
        for name in counts:
            if getattr(self, name) < 1:
                raise ConfigError(f"signals.{name} must be >= 1, got {getattr(self, name)}")
        if self.min_near_chars < self.shingle_chars:
            raise ConfigError("signals.min_near_chars must be >= signals.shingle_chars")


def add_signals(df: pd.DataFrame, config: SignalsConfig = SignalsConfig()) -> pd.DataFrame:
    """`df` plus every signals column (see SIGNAL_COLUMNS); author/created_at may be absent.
    A duplicate record (pipeline.duplicates) gets the columns of its comment's first record."""
    _require(df, ("post_id", "dedup_key"))
    first = duplicates.first_rows(duplicates.digests(df))
    out = duplicates.per_comment(df, lambda rows, _: _signal_columns(rows, config), first)
    out.insert(0, duplicates.COLUMN, first != np.arange(len(df)))
    return pd.concat([df.drop(columns=list(SIGNAL_COLUMNS), errors="ignore"), out], axis=1)


def _signal_columns(df: pd.DataFrame, config: SignalsConfig) -> pd.DataFrame:
    clusters = cluster_columns(df, config)
    authors = author_columns(df, clusters["cluster_id"], config)
    return pd.concat([clusters, authors, burst_columns(df, config)], axis=1)


def cluster_columns(df: pd.DataFrame, config: SignalsConfig = SignalsConfig()) -> pd.DataFrame:
    """Copy-paste clusters: exact dedup_key matches merged with MinHash near-duplicates."""
    keys = text_column(df, "dedup_key").str.strip().replace("", pd.NA)
    codes, uniques = pd.factorize(keys)
    uniques = np.asarray(uniques, dtype=object)
    # A trailing slot serves code -1 (no key); those rows each get a singleton group instead.
    labels = np.append(near_duplicate_labels(uniques, config), -1)
    ids = np.append(cluster_ids(uniques, labels[:-1]), None)
    missing = codes < 0
    group = np.where(missing, len(uniques) + np.cumsum(missing), labels[codes])
    by = _who(df, g=group).groupby("g")
    out = pd.DataFrame(index=df.index)
    out["cluster_id"] = pd.array(ids[codes], dtype="string")
    out["cluster_size"] = by["g"].transform("size").to_numpy()
    out["cluster_posts"] = by["post"].transform("nunique").to_numpy()
    out["cluster_authors"] = by["author"].transform("nunique").to_numpy()
    # Comments with a known author: how often each author repeats it, without counting the
    # anonymous ones as repeats.
    out["cluster_authored"] = by["author"].transform("count").to_numpy()
    # Fans everywhere write the same emoji ("🔥🔥🔥"): a shared emoji-only text is no evidence.
    worded = _wordy_rows(df, config) & ~flag_column(df, "emoji_only")
    out["copy_paste"] = (~missing) & worded & spans_enough(out, config)
    return out


def author_columns(
    df: pd.DataFrame, cluster_id: pd.Series, config: SignalsConfig = SignalsConfig()
) -> pd.DataFrame:
    """How widely each author comments, and on how many posts they pasted the same cluster."""
    frame = _who(df, cluster=_codes(cluster_id))
    by_author = frame.groupby("author", dropna=True)["post"]
    repeat = frame.groupby(["author", "cluster"], dropna=True)["post"].transform("nunique")
    out = pd.DataFrame(index=df.index)
    # Null authors get <NA>, not 0: an unknown account has no behaviour to report.
    out["author_posts"] = by_author.transform("nunique").astype("Int64").array
    out["author_comments"] = by_author.transform("size").astype("Int64").array
    out["author_repeat_posts"] = repeat.astype("Int64").array
    repeated = out["author_repeat_posts"].fillna(0).to_numpy() >= 2
    out["author_repeat"] = repeated & _wordy_rows(df, config)
    return out


def burst_columns(df: pd.DataFrame, config: SignalsConfig = SignalsConfig()) -> pd.DataFrame:
    """Bursts: comments inside a W-second window on one post that holds >= K comments."""
    seconds = burst_seconds(text_column(df, "created_at"))
    post_codes, _ = pd.factorize(text_column(df, "post_id"))
    burst_size, burst_span, burst_start = burst_arrays(post_codes, seconds, config)
    out = pd.DataFrame(index=df.index)
    out["in_burst"] = burst_size > 0
    out["burst_size"] = burst_size
    out["burst_span_s"] = burst_span
    out["burst_start_s"] = burst_start  # the episode's id on its post: its first comment's time
    return out


def burst_arrays(
    post: np.ndarray, seconds: np.ndarray, config: SignalsConfig, block: int = 1 << 18
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: burst size (0 outside bursts), span and start (epoch seconds of the first
    comment; both NaN outside), from post codes (-1: missing) and epoch seconds (NaN:
    missing). Row order breaks timestamp ties."""
    usable = np.flatnonzero((post >= 0) & ~np.isnan(seconds))
    order = usable[np.lexsort((seconds[usable], post[usable]))]
    burst_size = np.zeros(len(post), dtype=np.int64)
    burst_span, burst_start = np.full(len(post), np.nan), np.full(len(post), np.nan)
    # Bursts never span posts, so whole posts go a block at a time: the episode arithmetic
    # holds a dozen arrays as long as its input (0.3 GB at 5 million rows in one go).
    for lo, hi in post_blocks(post[order], block):
        rows = order[lo:hi]
        size, span, start = _burst_episodes(post[rows], seconds[rows].astype(np.int64), config)
        burst_size[rows], burst_span[rows], burst_start[rows] = size, span, start
    return burst_size, burst_span, burst_start


def post_blocks(posts: np.ndarray, block: int) -> Iterator[tuple[int, int]]:
    """(lo, hi) runs of about `block` rows of sorted post codes, each ending with a post."""
    lo = 0
    while lo < len(posts):
        hi = min(lo + block, len(posts))
        hi = int(np.searchsorted(posts, posts[hi - 1], side="right"))
        yield lo, hi
        lo = hi


def flag_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    """The column as bools, False where missing, all False without the column."""
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    return parse_flags(frame[col]).fillna(False).to_numpy(dtype=bool)


def _require(df: pd.DataFrame, columns: tuple[str, ...]) -> None:
    if missing := ", ".join(c for c in columns if c not in df.columns):
        raise ValueError(f"signals need column(s) {missing}; run the cleaning stage first")


def text_column(df: pd.DataFrame, name: str) -> pd.Series:
    """The column as pandas strings, or all-null when the export has no such column."""
    if name not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    return df[name].astype("string")


def _who(df: pd.DataFrame, **extra: np.ndarray) -> pd.DataFrame:
    """Post and author per row on a fresh RangeIndex, plus `extra` columns to group by."""
    posts, authors = _codes(text_column(df, "post_id")), _codes(text_column(df, "author"))
    return pd.DataFrame({"post": posts, "author": authors, **extra})


def _codes(values: pd.Series) -> pd.arrays.IntegerArray:
    """Integer codes, <NA> where missing: they group exactly like the strings, but a million
    rows cost 9 MB instead of a million Python string objects."""
    codes, _ = pd.factorize(values)
    return pd.arrays.IntegerArray(codes.astype(np.int64), codes < 0)


def _wordy_rows(df: pd.DataFrame, config: SignalsConfig) -> np.ndarray:
    """Rows whose key has enough word characters for a repeat to mean something."""
    codes, uniques = pd.factorize(text_column(df, "dedup_key"))
    wordy = wordy_keys(uniques, config.min_signal_chars)
    return (codes >= 0) & np.append(wordy, False)[codes]


def wordy_keys(keys, min_chars: int) -> np.ndarray:
    """Per key, whether it has at least `min_chars` word characters."""
    return np.fromiter(map(enough_word_chars(min_chars), keys), bool, len(keys))


def enough_word_chars(n: int) -> Callable[[str], bool]:
    """A test for "at least `n` word characters" (as counted by re's \\w)."""
    return _at_least(r"\w", r"\W*+", n)


def enough_words(n: int) -> Callable[[str], bool]:
    """A test for "at least `n` words" (runs of letters: re's [^\\W\\d_]+)."""
    return _at_least(r"[^\W\d_]++", r"[\W\d_]++", n)


@cache
def _at_least(unit: str, gap: str, n: int) -> Callable[[str], bool]:
    # Stops at the n-th match instead of counting them all (findall over every key of a
    # million-row export cost seconds). `gap` is the complement of `unit`, possessive, so
    # the search never backtracks.
    if n <= 0:
        return lambda text: True
    found = re.compile(unit if n == 1 else f"{unit}(?:{gap}{unit}){{{n - 1}}}").search
    return lambda text: found(text) is not None


def spans_enough(out: pd.DataFrame, config: SignalsConfig) -> np.ndarray:
    """Rows whose cluster is big enough and spans enough posts or authors to be copy-paste."""
    big = out["cluster_size"].to_numpy() >= config.min_cluster_size
    posts = out["cluster_posts"].to_numpy() >= config.min_cluster_posts
    authors = out["cluster_authors"].to_numpy() >= config.min_cluster_authors
    return big & (posts | authors)


def near_duplicate_labels(keys: np.ndarray, config: SignalsConfig) -> np.ndarray:
    """Component label per distinct key; LSH candidates are kept only if true Jaccard passes."""
    return neardup.components(
        keys.tolist(), config.jaccard, config.shingle_chars, config.num_perm, config.seed,
        config.min_near_chars,
    )  # fmt: skip


def cluster_ids(keys: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """A stable id per component: a short hash of its smallest key, independent of row order."""
    smallest = pd.Series(keys).groupby(labels).transform("min")
    digest = {
        k: hashlib.blake2b(k.encode("utf-8"), digest_size=6).hexdigest() for k in set(smallest)
    }
    return smallest.map(digest).to_numpy(dtype=object)


def epoch_seconds(created_at: pd.Series) -> np.ndarray:
    """Whole seconds since the epoch; NaN where the timestamp is missing or unparseable."""
    ts = pd.to_datetime(created_at.astype("string"), utc=True, errors="coerce", format="ISO8601")
    # The epoch in the parsed unit: a nanosecond epoch would cast year 9999 to nanoseconds.
    seconds = (ts - pd.Timestamp(0, tz="UTC").as_unit(ts.dt.unit)).dt.total_seconds()
    return np.floor(seconds.to_numpy(dtype=float, na_value=np.nan))


def burst_seconds(created_at: pd.Series) -> np.ndarray:
    """epoch_seconds for bursts: NaN also for a date with no time of day ("2024-03-01"), which
    puts a whole day's comments on one second."""
    seconds = epoch_seconds(created_at)
    dated = created_at.astype("string").str.contains("T", regex=False).fillna(False)
    return np.where(dated.to_numpy(dtype=bool), seconds, np.nan)


def _burst_episodes(post: np.ndarray, t: np.ndarray, config: SignalsConfig):
    """Per comment (sorted by post, time): size and duration of its burst episode, 0 if none.

    The window starting at comment j covers j..j+fwd[j]-1. Any dense window can be shifted to
    start at its first comment, so dense windows that start at comments cover every burst
    comment; overlapping dense windows on one post form one episode.
    """
    n = len(t)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    # Offsetting each post by more than the whole time span keeps searchsorted inside a post.
    gap = int(t.max() - t.min()) + 2 * config.burst_window_s + 1
    key = post.astype(np.int64) * gap + (t - t.min())
    idx = np.arange(n)
    fwd = np.searchsorted(key, key + config.burst_window_s, side="right") - idx
    starts = idx[fwd >= config.burst_min_comments]
    ends = starts + fwd[starts] - 1
    opened = np.cumsum(np.bincount(starts, minlength=n))
    closed = np.cumsum(np.bincount(ends, minlength=n))  # windows ending at or before i
    covered = opened - closed + np.bincount(ends, minlength=n) > 0
    # Neighbours share an episode only when one dense window holds both of them.
    joined = np.concatenate([[False], (opened - closed)[:-1] > 0])
    first = np.flatnonzero(covered & ~joined)
    episode = np.cumsum(covered & ~joined) - 1
    counts = np.bincount(episode[covered], minlength=len(first))
    spans, starts = (t[first + counts - 1] - t[first]).astype(float), t[first].astype(float)
    # A trailing dummy slot absorbs episode -1 (rows before the first burst); masked anyway.
    size = np.where(covered, np.append(counts, 0)[episode], 0)
    span = np.where(covered, np.append(spans, np.nan)[episode], np.nan)
    start = np.where(covered, np.append(starts, np.nan)[episode], np.nan)
    return size.astype(np.int64), span, start
