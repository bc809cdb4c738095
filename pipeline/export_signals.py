"""Export-wide signals over scored checkpoint parts, without the export's strings in memory.

`signals.add_signals` and `behaviour.row_columns` read one DataFrame of every row; at five
million rows its post ids, authors, keys and timestamps alone are gigabytes of Python
strings. Here the parts are read a few columns at a time: each string column becomes int32
codes (a dict over its distinct values, filled part by part in order of first appearance, so
the codes are those of pd.factorize over the whole column), timestamps become float seconds,
and every signal is computed on those arrays, near-duplicate clustering on distinct keys
only. The columns come out part by part and equal the in-memory functions' output
(tests/unit/test_export_signals.py checks that).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from pipeline import behaviour, duplicates, signals
from pipeline.signals import SignalsConfig

# What is read from each part; a column a part lacks reads as missing, as in add_signals.
READ = ("post_id", "comment_id", "author", "created_at", "dedup_key", "emoji_only", "p_generic")
COLUMNS = (*signals.SIGNAL_COLUMNS, *behaviour.ROW_COLUMNS)


class Codes:
    """Strings -> int32 codes in order of first appearance across all calls (-1: missing)."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, values: pd.Series) -> np.ndarray:
        local, uniques = pd.factorize(values)
        known = (self.index.setdefault(u, len(self.index)) for u in uniques)
        codes = np.fromiter(known, np.int32, len(uniques))
        return np.append(codes, np.int32(-1))[local]  # a trailing slot serves local code -1


@dataclass
class Rows:
    """Per-row inputs of the whole export: int32 codes (-1: missing) and plain numbers."""

    key: np.ndarray  # into `keys`: the stripped dedup_key, -1 where empty or missing
    post: np.ndarray
    author: np.ndarray
    seconds: np.ndarray  # epoch seconds, NaN where missing, unparseable or a date alone
    emoji: np.ndarray
    generic: np.ndarray
    record: np.ndarray  # duplicates.digests: which comment the row is a record of (0: unknown)
    keys: list[str]
    bounds: list[int]  # part i holds rows bounds[i]:bounds[i + 1]

    @classmethod
    def missing(cls, bounds: list[int]) -> Rows:
        """Every value missing, for `read_rows` to fill part by part."""
        n = bounds[-1]
        key, post, author = (np.full(n, -1, dtype=np.int32) for _ in range(3))
        flags = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        record = np.zeros(n, dtype=np.uint64)
        return cls(key, post, author, np.full(n, np.nan), *flags, record, keys=[], bounds=bounds)

    def subset(self, kept: np.ndarray) -> Rows:
        """The kept rows alone, as if the others had never been read: a key only they had
        is gone (codes keep their order of first appearance), so it can not link clusters."""
        key = self.key[kept]
        used = np.unique(key[key >= 0])
        recode = np.full(len(self.keys), -1, dtype=np.int32)
        recode[used] = np.arange(len(used), dtype=np.int32)
        key = np.where(key >= 0, _with_missing(recode, -1)[key], -1).astype(np.int32)
        arrays = (self.post, self.author, self.seconds, self.emoji, self.generic, self.record)
        keys = [self.keys[i] for i in used]
        return Rows(key, *(a[kept] for a in arrays), keys=keys, bounds=[0, int(kept.sum())])


def read_rows(parts: list[Path], generic_threshold: float) -> Rows:
    """Every part's signal inputs, coded; only one part's strings are held at a time."""
    bounds = np.cumsum([0, *(pq.read_metadata(p).num_rows for p in parts)]).tolist()
    rows = Rows.missing(bounds)
    codes = {name: Codes() for name in ("key", "post", "author")}
    for path, lo, hi in zip(parts, bounds[:-1], bounds[1:], strict=True):
        for name, values in _part_inputs(path, codes, generic_threshold).items():
            if len(values) != hi - lo:  # filled in place: no second copy of every array
                raise ValueError(f"{path}: {len(values)} rows, its metadata says {hi - lo}")
            getattr(rows, name)[lo:hi] = values
    rows.keys = list(codes["key"].index)
    return rows


def _part_inputs(path: Path, codes: dict[str, Codes], threshold: float) -> dict[str, np.ndarray]:
    """One part's columns as add_signals and generic_flags would read them, coded."""
    names = set(pq.read_schema(path).names)
    frame = pd.read_parquet(path, columns=[c for c in READ if c in names])
    text = signals.text_column
    return {
        "key": codes["key"](_keys(frame)),
        "post": codes["post"](text(frame, "post_id")),
        "author": codes["author"](text(frame, "author")),
        "seconds": signals.burst_seconds(text(frame, "created_at")),
        "emoji": signals.flag_column(frame, "emoji_only"),
        "generic": behaviour.generic_flags(frame, threshold).to_numpy(dtype=bool),
        "record": duplicates.digests(frame),
    }


def _keys(frame: pd.DataFrame) -> pd.Series:
    """The dedup keys the signals cluster: stripped, <NA> where empty or missing."""
    return signals.text_column(frame, "dedup_key").str.strip().replace("", pd.NA)


def compute(
    parts: list[Path],
    config: SignalsConfig,
    generic_threshold: float,
    near: KeyComponents | None = None,
) -> Tables:
    """The signals of every part's rows, computed now; `Tables.frames` hands them out.
    `near`: the near-duplicate components, where the reader computed them already."""
    return Tables(read_rows(parts, generic_threshold), config, near)


class KeyComponents:
    """Near-duplicate components of an export's distinct keys, computed by the reader thread
    once it has cleaned the last chunk, while the model still scores the chunks before it:
    at the end of the run the search held one core for 5-7% of a 200,000-row run while the
    other idled. Only 64-bit key digests and labels are kept for the signals stage, which
    checks that they cover exactly its keys (a resumed run's reader skips finished chunks)."""

    def __init__(self, config: SignalsConfig) -> None:
        self.config = config
        self._seen: dict[str, None] = {}
        self.digests = np.empty(0, dtype=np.uint64)
        self.labels: np.ndarray | None = None

    def add(self, frame: pd.DataFrame) -> None:
        """Remember a cleaned chunk's keys."""
        self._seen.update(dict.fromkeys(_keys(frame).dropna().tolist()))

    def compute(self) -> None:
        """Cluster every key added so far."""
        keys = np.asarray(list(self._seen), dtype=object)
        self._seen = {}
        self.labels = signals.near_duplicate_labels(keys, self.config)
        self.digests = _digests(keys)

    def labels_for(self, keys: list[str]) -> np.ndarray | None:
        """Labels partitioning `keys` as `neardup.components` would (each the smallest index
        in its component), or None unless `keys` are exactly the keys computed."""
        index = pd.Index(self.digests)
        if self.labels is None or len(keys) != len(index) or not index.is_unique:
            return None
        where = index.get_indexer(_digests(np.asarray(keys, dtype=object)))
        if (where < 0).any():
            return None
        component = pd.Series(np.arange(len(keys)))
        return component.groupby(self.labels[where]).transform("min").to_numpy()


def _digests(keys: np.ndarray) -> np.ndarray:
    return pd.util.hash_array(keys)  # 64-bit: any collision among a million keys ~3e-8


def _distinct(group: np.ndarray, value: np.ndarray, groups: int) -> np.ndarray:
    """Per group 0..groups-1: distinct values >= 0 among its rows (nunique: NA not counted)."""
    ok = (group >= 0) & (value >= 0)
    width = np.int64(value.max(initial=0)) + 1
    pairs = group[ok].astype(np.int64)
    pairs *= width  # in place: at 5 million rows each temporary copy is 40 MB
    pairs += value[ok]
    return np.bincount(pd.unique(pairs) // width, minlength=groups)


def _with_missing(table: np.ndarray, fill) -> np.ndarray:
    """`table` plus a trailing slot, so that indexing with code -1 reads `fill`."""
    return np.append(table, np.asarray(fill, dtype=table.dtype))


class Tables:
    """Signals per distinct key, per author, per (author, cluster) and per row (bursts)."""

    def __init__(
        self, rows: Rows, config: SignalsConfig, near: KeyComponents | None = None
    ) -> None:
        # Computed on each comment's first record; a duplicate record takes its first's.
        kept, self.source = duplicates.broadcast(duplicates.first_rows(rows.record))
        self.duplicate, self.bounds = ~kept, rows.bounds
        self.rows, self.config = (rows if kept.all() else rows.subset(kept)), config
        self._clusters(near)
        self._authors()
        self._repeats()
        self._bursts()

    def _clusters(self, near: KeyComponents | None) -> None:
        """Component, id, size, posts, authors and copy-paste per distinct key."""
        rows, keys = self.rows, np.asarray(self.rows.keys, dtype=object)
        usable = near is not None and near.config == self.config
        labels = near.labels_for(rows.keys) if usable else None
        if labels is None:  # a key index per key
            labels = signals.near_duplicate_labels(keys, self.config)
        comp = np.where(rows.key >= 0, _with_missing(labels, -1)[rows.key], -1)
        n, ok = len(keys), (comp >= 0) & (rows.author >= 0)
        spans = pd.DataFrame({  # per key, its component's
            "cluster_size": np.bincount(comp[comp >= 0], minlength=n)[labels],
            "cluster_posts": _distinct(comp, rows.post, n)[labels],
            "cluster_authors": _distinct(comp, rows.author, n)[labels],
            "cluster_authored": np.bincount(comp[ok], minlength=n)[labels],
        })  # fmt: skip
        self.size, self.posts, self.authors, self.authored = (
            _with_missing(spans[c].to_numpy(), 0) for c in spans.columns
        )
        self.ids = _with_missing(signals.cluster_ids(keys, labels), None)
        self.cluster = _with_missing(pd.factorize(self.ids[:-1])[0].astype(np.int64), -1)
        self.wordy = _with_missing(self._wordy(keys), False)
        self.copy = _with_missing(signals.spans_enough(spans, self.config), False) & self.wordy

    def _wordy(self, keys: np.ndarray) -> np.ndarray:
        """Keys with enough word characters for a repeat to mean something."""
        return signals.wordy_keys(keys, self.config.min_signal_chars)

    def _authors(self) -> None:
        """Posts, comments, generic posts and generic share per author code."""
        author, post, generic = self.rows.author, self.rows.post, self.rows.generic
        n = int(author.max(initial=-1)) + 1
        known = author >= 0
        self.comments = np.bincount(author[known], minlength=n)
        self.author_posts = _distinct(author, post, n)
        self.generic_posts = _distinct(np.where(generic, author, -1), post, n)
        generic_count = np.bincount(author[known], weights=generic[known], minlength=n)
        self.generic_share = generic_count / np.maximum(self.comments, 1)

    def _repeats(self) -> None:
        """Distinct posts per (author, cluster) pair, and each row's pair (-1: either missing)."""
        cluster = self.cluster[self.rows.key]
        both = (self.rows.author >= 0) & (cluster >= 0)
        combined = self.rows.author[both].astype(np.int64) * len(self.cluster) + cluster[both]
        self.pair = np.full(len(cluster), -1, dtype=np.int32)
        self.pair[both] = pd.factorize(combined)[0]
        self.repeat = _distinct(self.pair, self.rows.post, int(self.pair.max(initial=-1)) + 1)

    def _bursts(self) -> None:
        """Burst size and span per row, and the generic share of each row's burst."""
        rows = self.rows
        self.burst_size, self.burst_span, self.burst_start = signals.burst_arrays(
            rows.post, rows.seconds, self.config
        )
        self.burst_share = np.full(len(rows.post), np.nan)
        inside = np.flatnonzero(self.burst_size > 0)
        inside = inside[np.argsort(rows.post[inside], kind="stable")]
        for lo, hi in signals.post_blocks(rows.post[inside], 1 << 18):  # bursts stay in a post
            self.burst_share[inside[lo:hi]] = self._share(inside[lo:hi])

    def _share(self, inside: np.ndarray) -> np.ndarray:
        """Generic share per burst episode: (post, start), as in behaviour.row_columns."""
        keys = [self.rows.post[inside], self.burst_start[inside]]
        generic = pd.Series(self.rows.generic[inside], dtype=float)
        return generic.groupby(keys).transform("mean").to_numpy()

    def frames(self) -> Iterator[pd.DataFrame]:
        """COLUMNS for each part's rows (on a RangeIndex), part by part."""
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            yield self.frame(lo, hi)

    def frame(self, lo: int, hi: int) -> pd.DataFrame:
        """COLUMNS of rows lo:hi of the export."""
        at = self.source[lo:hi]  # the rows computed on: each row's first record
        return pd.DataFrame({duplicates.COLUMN: self.duplicate[lo:hi],
                             **self._cluster_columns(at), **self._author_columns(at),
                             **self._burst_columns(at)})  # fmt: skip

    def _cluster_columns(self, at: np.ndarray) -> dict:
        key, rows = self.rows.key[at], self.rows
        known = key >= 0  # a row without a key is a cluster of its own
        return {
            "cluster_id": pd.array(self.ids[key], dtype="string"),
            "cluster_size": np.where(known, self.size[key], 1),
            "cluster_posts": np.where(known, self.posts[key], rows.post[at] >= 0),
            "cluster_authors": np.where(known, self.authors[key], rows.author[at] >= 0),
            "cluster_authored": np.where(known, self.authored[key], rows.author[at] >= 0),
            "copy_paste": self.copy[key] & ~rows.emoji[at],
        }

    def _author_columns(self, at: np.ndarray) -> dict:
        author, pair = self.rows.author[at], self.pair[at]
        repeat = _with_missing(self.repeat, 0)[pair]
        return {
            "author_posts": _nullable(self.author_posts, author),
            "author_comments": _nullable(self.comments, author),
            "author_repeat_posts": _nullable(self.repeat, pair),
            "author_repeat": (repeat >= 2) & self.wordy[self.rows.key[at]],
        }

    def _burst_columns(self, at: np.ndarray) -> dict:
        size, author = self.burst_size[at], self.rows.author[at]
        return {
            "in_burst": size > 0,
            "burst_size": size,
            "burst_span_s": self.burst_span[at],
            "burst_start_s": self.burst_start[at],
            "author_generic_posts": _nullable(self.generic_posts, author),
            "author_generic_share": _nullable(self.generic_share, author),
            "burst_generic_share": pd.array(self.burst_share[at], dtype="Float64"),
        }


def _nullable(table: np.ndarray, codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """table[codes] as Int64 (or Float64 for a float table), <NA> where the code is -1."""
    values = _with_missing(table, 0)[codes]
    if table.dtype.kind == "f":
        return pd.arrays.FloatingArray(values.astype(np.float64), codes < 0)
    return pd.arrays.IntegerArray(values.astype(np.int64), codes < 0)
