"""Short human reasons per comment: the model's probability and the signals that fired.

"p_spam 0.97; link; copy-paste: same text on 7 posts by 12 authors". Reads the columns of a
scored frame with its coordination signals (pipeline.signals); a column the frame lacks simply
gives no reason, so the same code explains a cleaned-only, a scored or a fully signalled frame.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from pipeline.clean import MAX_CHARS
from pipeline.signals import SignalsConfig, flag_column

DEFAULTS = SignalsConfig()


def reasons_for(rows: pd.DataFrame | pd.Series, config: SignalsConfig = DEFAULTS) -> pd.Series:
    """Short human reasons per comment ("link; copy-paste: same text on 7 posts by 12 authors")."""
    frame = rows.to_frame().T if isinstance(rows, pd.Series) else rows
    return pd.Series(join_reasons(_reason_parts(frame, config)), index=frame.index, dtype="string")


def join_reasons(parts) -> list[str]:
    """Per row, the texts of the (mask, text) parts whose mask holds, joined by "; "."""
    columns = [np.where(when, text, "") for when, text in parts]
    # One join per row: gluing whole string columns pairwise cost ~5 us a row per reason.
    return ["; ".join(filter(None, row)) for row in zip(*columns, strict=True)]


def _reason_parts(frame: pd.DataFrame, config: SignalsConfig):
    """(mask, text) pairs in reading order; a missing column simply yields no reason."""
    num, flag = partial(number_column, frame), partial(flag_column, frame)
    p = num("p_spam")
    yield p >= config.reason_min_p_spam, "p_spam " + two_decimals(p.round(2))
    urls = num("n_url").fillna(0)
    yield urls > 0, np.where(urls > 1, _count(urls, "link"), "link")
    yield num("n_mention").fillna(0) > 0, "mentions another account"
    yield num("n_wallet").fillna(0) > 0, "wallet address"
    yield num("n_phone").fillna(0) > 0, "phone number"
    yield flag("emoji_only"), "emoji only"
    authors = num("cluster_authors")
    # An export without authors counts none: say where the text is, not "by 0 authors".
    who = pd.Series(np.where(authors > 0, " by " + _count(authors, "author"), ""), frame.index)
    where = _count(num("cluster_posts"), "post") + who
    yield flag("copy_paste"), "copy-paste: same text on " + where
    yield flag("author_repeat"), "author repeats on " + _count(num("author_repeat_posts"), "post")
    span = _duration(num("burst_span_s"))
    yield flag("in_burst"), "burst: " + _count(num("burst_size"), "comment") + " in " + span
    # A 1 MB comment is kept whole in the output, but the model only read its beginning.
    yield flag("truncated"), f"truncated: the model read the first {MAX_CHARS:,} characters"


def two_decimals(values: pd.Series) -> pd.Series:
    """Numbers as text, "0.97"; str even for no rows (mapping an empty float Series keeps it
    float, which "text" + cannot take)."""
    return values.map("{:.2f}".format).astype(str)


def number_column(frame: pd.DataFrame, col: str) -> pd.Series:
    """The column as floats, NaN where missing or not a number, all NaN without the column."""
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _count(values: pd.Series, noun: str) -> pd.Series:
    whole = values.fillna(0).round().astype(np.int64)
    return whole.astype(str) + " " + noun + np.where(whole == 1, "", "s")


def _duration(seconds: pd.Series) -> pd.Series:
    """Short spans in seconds, longer ones in whole minutes, as a reader would say them."""
    s = seconds.fillna(0)
    minutes = (s / 60).round().clip(lower=1).astype(np.int64).astype(str) + " min"
    return pd.Series(
        np.where(s < 120, s.round().astype(np.int64).astype(str) + " s", minutes), index=s.index
    )
