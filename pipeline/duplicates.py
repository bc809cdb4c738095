"""Duplicate records: one comment exported twice.

Exports are often stitched together from overlapping downloads (a scraper run twice, pages
that overlap), so the same comment (same post_id and comment_id) can appear more than once.
Counted twice it inflates every share and looks like coordination: its own copy makes a
copy-paste pair, a comment burst, an author repeating themselves. A duplicate record is
kept in the scored output (every input row is), marked `duplicate_record`, and carries the
signals of the first record of its comment, which alone is counted by the signals, the
report and the audit. Rows without a comment id can not be told from a real repeat and are
never duplicates.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

COLUMN = "duplicate_record"
ID_COLUMNS = ("post_id", "comment_id")


def digests(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit digest of (post_id, comment_id) per row; 0 where comment_id is missing.
    Any collision among five million records has odds of about 1e-6."""
    ids = pd.DataFrame({c: _strings(frame, c) for c in ID_COLUMNS})
    hashed = pd.util.hash_pandas_object(ids.fillna("\0"), index=False).to_numpy(
        np.uint64, copy=True
    )
    hashed[hashed == 0] = 1  # 0 is reserved for "no id"
    return np.where(ids["comment_id"].isna().to_numpy(), np.uint64(0), hashed)


def first_rows(digest: np.ndarray) -> np.ndarray:
    """Per row, the position of the first row with its digest (its own without an id)."""
    first = np.arange(len(digest))
    has_id = np.flatnonzero(digest != 0)
    _, start, inverse = np.unique(digest[has_id], return_index=True, return_inverse=True)
    first[has_id] = has_id[start[inverse]]
    return first


def mask(frame: pd.DataFrame) -> np.ndarray:
    """True for every record after the first of its comment, found from the ids: a stored
    `duplicate_record` column is not trusted, since a scored file filtered (its first
    records gone) or joined with another (both marked first) no longer agrees with it."""
    first = first_rows(digests(frame))
    return first != np.arange(len(first))


def counted(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The frame without its duplicate records, and how many were left out."""
    extra = mask(frame)
    return (frame[~extra] if extra.any() else frame), int(extra.sum())


def warnings(n: int) -> list[str]:
    """The line a report or audit shows when it left duplicate records out."""
    if not n:
        return []
    return [f"{n:,} duplicate record(s) (a comment id seen again on the same post, as when "
            "overlapping exports are joined) counted once"]  # fmt: skip


def broadcast(first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kept, source): the rows to compute on, and per row the position within the kept rows
    of the row whose values it takes (its first record's)."""
    kept = first == np.arange(len(first))
    position = np.cumsum(kept) - 1
    return kept, position[first]


def per_comment(
    frame: pd.DataFrame,
    columns: Callable[[pd.DataFrame, np.ndarray], pd.DataFrame],
    first: np.ndarray | None = None,
) -> pd.DataFrame:
    """`columns(frame[kept], kept)` computed on each comment's first record only, with a row
    per row of `frame`: a duplicate record gets its first record's. `first`: first_rows of
    the frame, where known."""
    kept, source = broadcast(first_rows(digests(frame)) if first is None else first)
    if kept.all():
        return columns(frame, kept)
    return columns(frame[kept], kept).iloc[source].set_axis(frame.index)


def _strings(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string").str.strip().replace("", pd.NA)
