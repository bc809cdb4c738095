"""One cleaning and one forward pass per distinct comment, across the chunks of an export.

Bot comments repeat all through an export: `RepeatCache` keeps the cleaning results of texts
that recur, and `KeyCache` keeps the scores per dedup key, so a repeat costs neither a second
clean nor a second forward pass. `KeyCache.plan` runs on batch scoring's reader thread a chunk
ahead (pipeline.score), `KeyCache.score` on the model's.
"""

from __future__ import annotations

import operator
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from pipeline import clean as cleaning


class Scorer(Protocol):
    """What the batch scorer needs from a model (see pipeline.model.Classifier). A TokenScorer
    also gets its texts tokenised on the reader's thread (KeyCache.plan); an `engine` string
    (runtime and precision), where a scorer has one, keeps a resumed run from mixing two."""

    threshold: float
    manifest: dict

    def score_clean(
        self, texts: list[str], batch_size: int | None = None
    ) -> dict[str, np.ndarray]: ...


@runtime_checkable
class TokenScorer(Scorer, Protocol):
    """A scorer that tokenises apart from its forward pass, as pipeline.model.Classifier and
    its graph backends do; any other Scorer is handed the cleaned texts."""

    def encode(self, model_texts: Sequence[str]) -> list[list[int]]: ...

    def score_ids(
        self, ids: list[list[int]], batch_size: int | None = None
    ) -> dict[str, np.ndarray]: ...


class RepeatCache:
    """Cleaned results of texts that repeat, kept from chunk to chunk: bot comments recur all
    through an export, and cleaning costs ~100 us a text. A text is admitted when it occurs
    twice in one chunk, so the stream of one-off comments never churns it (on the 1M-row
    benchmark export: 734k texts cleaned instead of 907k); least recently used go first."""

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self.items: OrderedDict[str, cleaning.Cleaned] = OrderedDict()

    def clean_many(self, texts: list) -> list[cleaning.Cleaned]:
        """Same results as cleaning.clean_many(texts)."""
        counts = Counter(t for t in texts if isinstance(t, str))
        hits = {t: self.items[t] for t in counts if t in self.items}
        todo = [t for t in counts if t not in hits]
        found = {**hits, **dict(zip(todo, cleaning.clean_many(todo), strict=True))}
        self._keep(hits, [t for t in todo if counts[t] > 1], found)
        missing = cleaning.clean(None)
        return [found[t] if isinstance(t, str) else missing for t in texts]

    def _keep(self, hits: dict, repeated: list[str], found: dict) -> None:
        for text in hits:
            self.items.move_to_end(text)
        for text in repeated:
            self.items[text] = found[text]
        while len(self.items) > self.capacity:
            self.items.popitem(last=False)


def clean_frame(frame: pd.DataFrame, cache: RepeatCache | None = None) -> pd.DataFrame:
    """Canonical rows -> the same rows with the model text, dedup key and features."""
    texts = frame["text"].tolist()
    results = cleaning.clean_many(texts) if cache is None else cache.clean_many(texts)
    out = frame.copy()
    out["clean_text"] = pd.array([r.text for r in results], dtype="string")
    out["dedup_key"] = pd.array([r.dedup_key for r in results], dtype="string")
    # attrgetter builds each row's tuple in C: dataclasses.asdict deep-copies, ~55 us a row.
    row = operator.attrgetter(*cleaning.FEATURE_NAMES)
    feats = pd.DataFrame.from_records(
        [row(r.features) for r in results], columns=cleaning.FEATURE_NAMES, index=frame.index
    )
    return pd.concat([out, feats], axis=1)


def key_digests(keys: pd.Series) -> np.ndarray:
    """64-bit digests of dedup keys: the cache keeps 8 bytes per distinct text instead of the
    text (odds of any collision among a million keys: about 3e-8)."""
    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


# Where the dedup key is empty the cache keys on NUL + the cleaned text; readers drop NUL, so
# no dedup key starts with one and the two kinds of key never meet.
_BY_TEXT = "\x00"


def cache_digests(frame: pd.DataFrame) -> np.ndarray:
    """key_digests of the scoring cache's keys: the dedup key, or the cleaned text where that
    is empty. A text of only punctuation or symbols ("$$$", ":)", "★★★★★") has the dedup key
    "", and the model must still see each such text, not score them all as the first one."""
    keys = frame["dedup_key"].astype("string").fillna("")
    empty = keys == ""
    if empty.any():
        texts = frame["clean_text"].astype("string").fillna("")
        keys = keys.where(~empty, _BY_TEXT + texts)
    return key_digests(keys)


@dataclass
class Planned:
    """A cleaned chunk and what of it the model still has to see."""

    frame: pd.DataFrame
    digests: np.ndarray  # cache_digests of its rows, one per row
    new: np.ndarray  # rows whose cache key is first seen in this chunk (one per key)
    ids: list[list[int]] | None  # their token ids, where the scorer tokenises apart


class KeyCache:
    """cache key (see cache_digests) -> head scores, so a repeated comment never costs a second
    forward pass."""

    def __init__(self, batch_size: int | None = None) -> None:
        self.batch_size = batch_size
        self.scores: dict[int, tuple[float, ...] | None] = {}
        self.heads: list[str] = ["p_spam"]
        self.texts_scored = 0

    def plan(self, frame: pd.DataFrame, scorer: Scorer) -> Planned:
        """Claim the chunk's new keys and tokenise their texts. Batch scoring runs this on the
        reader's thread, a chunk ahead: tokenising there keeps the model busy meanwhile (it
        cost 23 s of 290 s idle model time on 200,000 distinct comments)."""
        digests = cache_digests(frame)
        new = ~pd.Series(digests).duplicated().to_numpy()
        new &= np.fromiter((d not in self.scores for d in digests.tolist()), bool, len(digests))
        self.scores.update(dict.fromkeys(digests[new].tolist()))  # claimed; `score` fills them
        tokenises = isinstance(scorer, TokenScorer) and new.any()
        ids = scorer.encode(frame["clean_text"][new].tolist()) if tokenises else None
        return Planned(frame, digests, new, ids)

    def score(self, planned: Planned, scorer: Scorer) -> None:
        """Score the planned chunk's new keys (in order: a plan may wait on an earlier one)."""
        if not planned.new.any():
            return
        if planned.ids is not None:
            heads = scorer.score_ids(planned.ids, self.batch_size)
        else:
            heads = scorer.score_clean(
                planned.frame["clean_text"][planned.new].tolist(), self.batch_size
            )
        self.heads = list(heads)
        self.texts_scored += int(planned.new.sum())
        rows = _rows([heads[h] for h in self.heads])
        self.scores.update(zip(planned.digests[planned.new].tolist(), rows, strict=True))

    def fill(self, frame: pd.DataFrame, scorer: Scorer) -> None:
        self.score(self.plan(frame, scorer), scorer)

    def remember(self, frame: pd.DataFrame, heads: list[str]) -> None:
        """Keep the scores of rows scored before (a resumed run's parts)."""
        self.heads = list(heads)
        if "clean_text" not in frame:  # an empty dedup key alone cannot say which text it was
            frame = frame[frame["dedup_key"].astype("string").fillna("") != ""]
        rows = _rows([frame[h] for h in heads])
        for digest, row in zip(cache_digests(frame).tolist(), rows, strict=True):
            self.scores.setdefault(digest, row)

    def apply(
        self, frame: pd.DataFrame, threshold: float, digests: np.ndarray | None = None
    ) -> pd.DataFrame:
        """`frame` with its scores; `digests`: its cache_digests, where known already."""
        out = frame.copy()
        digests = cache_digests(frame) if digests is None else digests
        rows = [self.scores[d] for d in digests.tolist()]
        values = np.array(rows, dtype=float).reshape(len(frame), len(self.heads))
        for j, head in enumerate(self.heads):
            out[head] = values[:, j]
        out["pred_label"] = np.where(out["p_spam"] >= threshold, "spam", "genuine")
        return out


def _rows(columns: list) -> list[tuple[float, ...]]:
    return list(map(tuple, np.column_stack([np.asarray(c, dtype=float) for c in columns]).tolist()))
