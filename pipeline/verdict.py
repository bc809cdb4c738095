"""The bot verdict per comment: spam, coordinated generic, generic or genuine, with its reason.

The spam classifier only knows promotional and scam spam; a bot's "Amazing 🔥" reads as
genuine to it. Generic text alone is no evidence either: fans write "🔥" too. So, in order:

* ``spam``: the classifier flags it (pred_label == "spam");
* ``coordinated generic``: p_generic >= generic_threshold AND a behavioural signal: the
  author left generic comments on several posts (and mostly generic ones), the text is in a
  copy-paste cluster (pipeline.signals) that is not just a popular stock phrase (see below),
  or it landed in a burst of mostly generic comments;
* ``generic``: generic text without any such signal (counted as genuine in the fake share,
  like commercial audit tools that only count short generic comments as inauthentic when
  the author or the pattern is suspicious too);
* ``genuine``: everything else.

Short stock phrases recur among independent fans by chance: in ScamSpot's real genuine
comments "wow 👏👏" appears under 22 posts from 25 different people. So for generic text a
copy-paste cluster counts only when its authors repeat it (on average at least
`copy_paste_min_per_author` comments each, counting only comments whose author is known: one
bot account, many posts) or the text is long enough (`copy_paste_min_words`) that independent
people would not write it word for word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline import behaviour, duplicates, signals
from pipeline.config import ConfigError
from pipeline.reasons import join_reasons, number_column, two_decimals

SPAM, COORDINATED, GENERIC, GENUINE = "spam", "coordinated generic", "generic", "genuine"
VERDICTS = (SPAM, COORDINATED, GENERIC, GENUINE)
FAKE = (SPAM, COORDINATED)  # what the fake share counts
# Scored columns the verdict reads, beyond the signals inputs (pipeline.signals.INPUT_COLUMNS).
SCORE_COLUMNS = ("p_spam", "pred_label", "p_generic")
COLUMNS = (*behaviour.ROW_COLUMNS, "verdict", "verdict_reason")


@dataclass(frozen=True)
class VerdictConfig:
    generic_threshold: float = 0.5  # p_generic at or above: generic text
    # "The author repeats generic comments across posts": on this many distinct posts ...
    author_min_generic_posts: int = 2
    # ... and most of what they write is generic (a fan's "🔥" among real comments is not).
    author_min_generic_share: float = 0.75
    use_copy_paste: bool = True
    # A copy-paste cluster of generic text counts with this many comments per author ...
    copy_paste_min_per_author: float = 1.5
    # ... or, whoever wrote it, when the text has at least this many words.
    copy_paste_min_words: int = 6
    # A burst counts when at least this share of its comments is generic.
    burst_min_generic_share: float = 0.5

    def __post_init__(self) -> None:
        for name in ("generic_threshold", "author_min_generic_share", "burst_min_generic_share"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ConfigError(f"verdict.{name} must be in (0, 1], got {getattr(self, name)}")
        if self.copy_paste_min_per_author < 1.0:
            raise ConfigError("verdict.copy_paste_min_per_author must be >= 1 (comments/author)")
        if self.copy_paste_min_words < 1:
            raise ConfigError("verdict.copy_paste_min_words must be >= 1")
        if self.author_min_generic_posts < 2:
            raise ConfigError("verdict.author_min_generic_posts must be >= 2 (across posts)")


def add_verdict(df: pd.DataFrame, config: VerdictConfig = VerdictConfig()) -> pd.DataFrame:
    """`df` plus the behaviour row columns, `verdict` and `verdict_reason` (never mutated)."""
    generic = behaviour.generic_flags(df, config.generic_threshold)
    rows = duplicates.per_comment(
        df, lambda first, kept: behaviour.row_columns(first, generic[kept])
    )
    frame = pd.concat([df.drop(columns=list(COLUMNS), errors="ignore"), rows], axis=1)
    verdict, reason = decide(frame, generic.to_numpy(dtype=bool), config)
    return frame.assign(verdict=verdict, verdict_reason=reason)


def decide(frame: pd.DataFrame, generic: np.ndarray, config: VerdictConfig):
    """(verdict, reason) Series for a frame that carries the behaviour row columns."""
    spam = _equals(frame, "pred_label", SPAM)
    parts = [(m & generic & ~spam, text) for m, text in _signals(frame, config)]
    why = _join(frame.index, parts)
    coordinated = generic & ~spam & (why != "").to_numpy()
    verdict = np.select([spam, coordinated, generic], [SPAM, COORDINATED, GENERIC], GENUINE)
    p_gen, p_spam = (two_decimals(number_column(frame, c)) for c in ("p_generic", "p_spam"))
    reason = np.select(
        [spam, coordinated, generic],
        ["spam classifier: p_spam " + p_spam,
         "generic text (p_generic " + p_gen + "); " + why,
         "generic text (p_generic " + p_gen + ") with no coordination signal"],
        "",
    )  # fmt: skip
    return (
        pd.Series(verdict, index=frame.index, dtype="string"),
        pd.Series(reason, index=frame.index, dtype="string"),
    )


def _signals(frame: pd.DataFrame, config: VerdictConfig):
    """(mask, reason text) per behavioural signal, in reading order."""
    posts = number_column(frame, "author_generic_posts")
    share = number_column(frame, "author_generic_share")
    repeats = (posts >= config.author_min_generic_posts) & (
        share >= config.author_min_generic_share
    )
    yield repeats.to_numpy(), "author wrote generic comments on " + _int(posts) + " posts"
    if config.use_copy_paste:
        where = _int(number_column(frame, "cluster_posts")) + " posts"
        authors = number_column(frame, "cluster_authors")
        # No author known (an export without them): say where, not "by 0 authors".
        who = np.where(authors > 0, " by " + _int(authors) + " authors", "")
        yield _copy_paste(frame, config), "copy-paste: same text on " + where + who
    burst = number_column(frame, "burst_generic_share")
    in_generic_burst = (burst >= config.burst_min_generic_share).to_numpy()
    size = _int(number_column(frame, "burst_size"))
    yield in_generic_burst, "burst of " + size + " comments, " + _pct(burst) + " generic"


def _copy_paste(frame: pd.DataFrame, config: VerdictConfig) -> np.ndarray:
    """Copy-paste clusters that are evidence for generic text: repeated by their authors, or
    too long to be a coincidence of stock phrasing."""
    # Only comments with a known author can show one repeating it; 0 authors is NaN, no match.
    # Files scored before cluster_authored existed fall back to the whole cluster.
    authors = number_column(frame, "cluster_authors").replace(0.0, np.nan)
    authored = "cluster_authored" if "cluster_authored" in frame else "cluster_size"
    per_author = number_column(frame, authored) / authors
    repeated = (per_author >= config.copy_paste_min_per_author).to_numpy()
    copy = signals.flag_column(frame, "copy_paste")
    unsure = np.flatnonzero(copy & ~repeated)  # only these need their words counted
    wordy = np.zeros(len(frame), dtype=bool)
    wordy[unsure] = _wordy(frame, unsure, config.copy_paste_min_words)
    return copy & (repeated | wordy)


def _wordy(frame: pd.DataFrame, rows: np.ndarray, min_words: int) -> np.ndarray:
    """Whether each of `rows` (positions) has at least `min_words` words."""
    # Words of the raw text: the dedup key spells emoji out ("smiling face with heart eyes").
    col = "text" if "text" in frame else "dedup_key"
    if col not in frame:
        return np.zeros(len(rows), dtype=bool)
    enough = signals.enough_words(min_words)
    texts = frame[col].iloc[rows].astype("string").tolist()
    return np.fromiter((t is not pd.NA and enough(t) for t in texts), bool, len(texts))


def _join(index: pd.Index, parts) -> pd.Series:
    return pd.Series(join_reasons(parts), index=index, dtype=object)


def _equals(frame: pd.DataFrame, col: str, value: str) -> np.ndarray:
    """Rows whose `col` is `value` (casefolded); all False without the column."""
    if col not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].astype("string").str.casefold().eq(value).fillna(False).to_numpy()


def _int(values: pd.Series) -> pd.Series:
    return values.fillna(0).round().astype(np.int64).astype(str)


def _pct(values: pd.Series) -> pd.Series:
    return (values.fillna(0) * 100).round().astype(np.int64).astype(str) + "%"


def is_fake(df: pd.DataFrame) -> pd.Series:
    """True for spam and coordinated generic: what the fake share counts."""
    return df["verdict"].astype("string").isin(FAKE).fillna(False)


def score_columns(parts: list) -> list[str]:
    """The SCORE_COLUMNS that scored parquet parts hold (p_generic only with a generic head)."""
    import pyarrow.parquet as pq

    names = set(pq.read_schema(parts[0]).names) if parts else set()
    return [c for c in SCORE_COLUMNS if c in names]
