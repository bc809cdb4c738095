"""Generic-comment labels for the p_generic head, made by stated rules from the corpora.

A comment is *generic* when its text is post-agnostic and low-effort: it could be posted
unchanged under any post ("Amazing 🔥", "Love this ❤️"). The public data only labels
promotional and scam spam, so these labels are made here, per distinct text (dedup key), by
rules applied in this order (configs/generic_lexicon.toml holds every word and threshold):

1. labelled spam -> 0 ("spam": scam scripts repeat too, but they are the spam head's job);
2. a content marker -> 0: question mark, digit, mention/link/email/phone/wallet placeholder,
   a Capitalised non-lexicon word after the first, an argument word ("because", "why", ...);
3. lexicon -> 1: emoji only, or every word is stock praise/filler with >= 1 praise word;
4. cross-post repeat -> 1: the text occurs under >= min_posts posts of >= min_owners owners;
5. >= long_words words -> 0 (long specific text);
6. anything else -> unlabelled (masked out of the generic loss).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline import patterns as P
from pipeline.config import ConfigError, load_config

DEFAULT_RULES = Path(__file__).resolve().parents[1] / "configs" / "generic_lexicon.toml"
PLACEHOLDER_RE = re.compile(r"\[(?:url|email|mention|phone|wallet)\]")
_PUNCT_RE = re.compile(r"[^\w\s]|_")
_SENTENCE_RE = re.compile(r"[.!?\n]+")
_HAHA_RE = re.compile(r"\b(?:ha){2,}h?\b|\b(?:he){2,}h?\b")
_RUN3_RE, _RUN2_RE = re.compile(r"(\w)\1{2,}"), re.compile(r"(\w)\1+")


@dataclass(frozen=True)
class RepeatRule:
    min_posts: int = 3
    min_owners: int = 2

    def __post_init__(self) -> None:
        if self.min_posts < 2 or self.min_owners < 1:
            raise ConfigError("repeat.min_posts must be >= 2 and repeat.min_owners >= 1")


@dataclass(frozen=True)
class NegativeRule:
    question: bool = True
    digits: bool = True
    mentions: bool = True
    names: bool = True
    long_words: int = 8
    argument_words: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.long_words < 2:
            raise ConfigError(f"negative.long_words must be >= 2, got {self.long_words}")


@dataclass(frozen=True)
class Lexicon:
    emoji_only: bool = True
    praise: tuple[str, ...] = ()
    filler: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.praise:
            raise ConfigError("lexicon.praise must list at least one word")


@dataclass(frozen=True)
class GenericRules:
    repeat: RepeatRule = field(default_factory=RepeatRule)
    negative: NegativeRule = field(default_factory=NegativeRule)
    lexicon: Lexicon = field(default_factory=lambda: Lexicon(praise=("amazing",)))


def load_rules(path: str | Path = DEFAULT_RULES, overrides: list[str] = ()) -> GenericRules:
    return load_config(GenericRules, path, overrides)


def words(raw: str) -> list[str]:
    """The comment's words as the lexicon sees them: casefolded, no accents, emoji or marks."""
    t = unicodedata.normalize("NFKD", P.EMOJI_RE.sub(" ", raw).casefold().replace("'", ""))
    t = "".join(c for c in t if not unicodedata.combining(c))
    return _HAHA_RE.sub("haha", _PUNCT_RE.sub(" ", t)).split()


def _known(word: str, vocab: frozenset[str]) -> str | None:
    """The vocabulary form of `word`, forgiving stretched letters ("sooo", "niceee")."""
    for form in (word, _RUN3_RE.sub(r"\1\1", word), _RUN2_RE.sub(r"\1", word)):
        if form in vocab:
            return form
    return None


@cache
def _vocab(entries: tuple[str, ...]) -> frozenset[str]:
    # Lexicon entries go through the same normalisation as comments ("schön" -> "schon").
    return frozenset(w for entry in entries for w in words(entry))


def is_stock_praise(raw: str, lexicon: Lexicon) -> bool:
    """Every word is praise or filler, and at least one is praise."""
    praise, vocab = _vocab(lexicon.praise), _vocab(lexicon.praise + lexicon.filler)
    found = [_known(w, vocab) for w in words(raw)]
    return bool(found) and None not in found and any(_known(w, praise) for w in words(raw))


def content_marker(raw: str, model_text: str, lexicon: Lexicon, rule: NegativeRule) -> str:
    """The first marker saying the comment refers to the post's content ("" if none)."""
    if rule.question and "?" in raw:
        return "question"
    if rule.digits and any(c.isdigit() for c in P.EMOJI_RE.sub("", raw)):
        return "number"
    if rule.mentions and PLACEHOLDER_RE.search(model_text):
        return "mention or link"
    if rule.names and _has_name(raw, lexicon):
        return "name"
    argue = _vocab(rule.argument_words)
    return "argument" if any(w in argue for w in words(raw)) else ""


def _has_name(raw: str, lexicon: Lexicon) -> bool:
    """ "Lisbon", "Hokkaido": a Capitalised word mid-sentence that is no stock word."""
    vocab = _vocab(lexicon.praise + lexicon.filler)
    sentences = [s.split()[1:] for s in _SENTENCE_RE.split(P.EMOJI_RE.sub(" ", raw))]
    mid = [t for s in sentences for t in s if words(t)]
    titled = [t for t in mid if t[:1].isupper() and t[1:].islower()]
    # Some people Capitalise Every Word; then a capital says nothing about names.
    if not titled or len(titled) == len(mid):
        return False
    return any(_known(words(t)[0], vocab) is None for t in titled)


def repeat_stats(rows: pd.DataFrame) -> pd.DataFrame:
    """Per dedup key: comments, distinct posts and distinct owners (a video is its own owner)."""
    owner = rows["post_owner"].astype("string").fillna(rows["post_id"].astype("string"))
    frame = pd.DataFrame({"key": rows["dedup_key"], "post": rows["post_id"], "owner": owner})
    frame = frame[frame["key"].astype("string").str.strip().fillna("") != ""]
    by = frame.groupby("key", sort=True)
    return pd.DataFrame(
        {"n": by.size(), "posts": by["post"].nunique(), "owners": by["owner"].nunique()}
    )


def label_row(raw: str, model_text: str, emoji_only: bool, spam: bool, repeat: bool,
              rules: GenericRules) -> tuple[float, str]:  # fmt: skip
    """(1.0 generic / 0.0 specific / NaN unlabelled, the rule that decided) for one text."""
    if spam:
        return 0.0, "spam"
    if marker := content_marker(raw, model_text, rules.lexicon, rules.negative):
        return 0.0, marker
    if rules.lexicon.emoji_only and emoji_only:
        return 1.0, "emoji only"
    if is_stock_praise(raw, rules.lexicon):
        return 1.0, "stock praise"
    if repeat:
        return 1.0, "cross-post repeat"
    if len(words(raw)) >= rules.negative.long_words:
        return 0.0, "long"
    return np.nan, ""


def label_texts(rows: pd.DataFrame, rules: GenericRules) -> pd.DataFrame:
    """One row per dedup key: generic (1/0/NaN), rule, repeat (bool), n, posts, owners, text.

    `rows` are cleaned corpus rows: text, dedup_key, clean_text, emoji_only, post_id,
    post_owner, label (spam/genuine/null). Every row counts for the repeat statistics,
    labelled or not; a key is spam when most of its labelled rows say so."""
    stats = repeat_stats(rows)
    spam = (rows["label"] == "spam").astype(float).where(rows["label"].notna())
    first = rows.assign(_spam=spam).groupby("dedup_key", sort=True).agg(
        text=("text", "first"), clean_text=("clean_text", "first"),
        emoji_only=("emoji_only", "first"), spam=("_spam", "mean"),
    )  # fmt: skip
    out = stats.join(first, how="inner")
    rule = rules.repeat
    out["repeat"] = (out["posts"] >= rule.min_posts) & (out["owners"] >= rule.min_owners)
    decided = [
        label_row(str(r.text), str(r.clean_text), bool(r.emoji_only), r.spam > 0.5, r.repeat, rules)
        for r in out.itertuples()
    ]
    out["generic"] = [g for g, _ in decided]
    out["rule"] = [why for _, why in decided]
    return out.rename_axis("dedup_key").reset_index()


def corpus_rows(paths: list[str | Path], mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """Every row of the corpora (labelled or not), cleaned like training and scoring."""
    from pipeline.io import RejectSink, read_chunks
    from pipeline.score import clean_frame

    # A second read of the training files: their rejects were reported by the first one.
    frames = [clean_frame(f) for p in paths
              for f in read_chunks(Path(p), mapping=mapping, rejects=RejectSink())]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def build_labels(
    paths: list[str | Path], rules: GenericRules | None = None, mapping: dict | None = None
) -> pd.DataFrame:
    """The generic label table of the corpora at `paths` (see label_texts)."""
    return label_texts(corpus_rows(paths, mapping), rules or load_rules())


def attach(examples: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """Training examples (training.data layout) plus `g` (1/0/NaN) joined on dedup_key."""
    g = labels.set_index("dedup_key")["generic"]
    return examples.assign(g=examples["dedup_key"].map(g).astype(float))


def counts(labels: pd.DataFrame) -> dict[str, int]:
    """How many distinct texts each rule decided, for logs and the model card."""
    decided = labels[labels["rule"] != ""]
    out = {"texts": len(labels), "generic": int((labels["generic"] == 1).sum()),
           "specific": int((labels["generic"] == 0).sum()),
           "unlabelled": int(labels["generic"].isna().sum()),
           "repeat": int(labels["repeat"].sum())}  # fmt: skip
    return out | {f"rule: {k}": int(v) for k, v in decided["rule"].value_counts().items()}


def for_training(examples: pd.DataFrame, paths: list, cfg) -> tuple[pd.DataFrame, dict]:
    """Training examples with `g` attached, and the record of the labelling for the manifest
    (`cfg` is a training.config.TrainConfig with generic.enabled)."""
    from pipeline.artifact import sha256_file

    path = Path(cfg.generic.rules)
    if not path.is_absolute() and not path.is_file():  # relative to the repository root
        path = DEFAULT_RULES.parents[1] / path
    labels = build_labels(list(paths), load_rules(path), cfg.data.mapping)
    out = attach(examples, labels)
    record = {"rules": str(cfg.generic.rules), "rules_sha256": sha256_file(path),
              "examples_generic": int((out["g"] == 1).sum()),
              "examples_specific": int((out["g"] == 0).sum()), **counts(labels)}  # fmt: skip
    return out, record


def rules_markdown(rules: GenericRules) -> str:
    """The labelling rules in words, with their thresholds (model card, docs/generic.md)."""
    r, n = rules.repeat, rules.negative
    return RULES_TEXT.format(min_posts=r.min_posts, min_owners=r.min_owners,
                             long_words=n.long_words, n_praise=len(rules.lexicon.praise),
                             n_filler=len(rules.lexicon.filler))  # fmt: skip


RULES_TEXT = """Labels are made per distinct text (dedup key) by these rules, first match wins
(`training/generic_labels.py`, words and thresholds in `configs/generic_lexicon.toml`):

1. labelled spam -> not generic (scam scripts repeat too, but they are the spam head's job);
2. refers to the post's content -> not generic: a question mark, a digit, a mention, link,
   email, phone or wallet, a Capitalised non-lexicon word mid-sentence (a name), or an
   argument/question word ("because", "but", "why", "recipe", ...);
3. lexicon -> generic: emoji only, or every word is one of {n_praise} stock-praise words (in
   English, Spanish, Portuguese, French, Italian, German, Dutch, Turkish, Indonesian, Hindi,
   Russian, Arabic, Japanese) or {n_filler} filler words, with at least one praise word;
4. cross-post repeat -> generic: the text occurs under >= {min_posts} posts of >= {min_owners}
   different post owners (a YouTube video counts as its own owner);
5. {long_words} words or more -> not generic (long specific text);
6. anything else -> no label (left out of the generic loss).
"""
