"""Cleaning stage: what the model sees, one pure function shared by training and scoring.

`clean(text)` returns the model text (case kept: the uncased WordPiece tokenizer lowercases),
a dedup key for copy-paste clustering and a small feature record. The output is idempotent
on `.text` and bounded by MAX_CHARS; bump CLEANING_VERSION whenever any output changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from functools import cache
from typing import TYPE_CHECKING, Any

from pipeline import patterns as P
from pipeline import textnorm

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

CLEANING_VERSION = "1.1"
MAX_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Features:
    """Per-comment features; docs/cleaning.md says exactly when each is read.

    n_chars, upper_ratio (upper / cased letters) and lang (ISO 639-1 from CLD2 when reliable,
    else "und") describe the normalised comment before emoji names and placeholders; n_tokens
    counts spaCy tokens of the model text (a placeholder is one); n_url..n_wallet count the
    placeholders (n_url also <a href> links); n_emoji counts whole emoji graphemes;
    truncated says the raw input was longer than MAX_CHARS.
    """

    n_chars: int
    n_tokens: int
    n_url: int
    n_email: int
    n_mention: int
    n_hashtag: int
    n_phone: int
    n_wallet: int
    n_emoji: int
    emoji_only: bool
    upper_ratio: float
    lang: str
    truncated: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    dedup_key: str
    features: Features


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Features))
_EMPTY = Cleaned("", "", Features(0, 0, 0, 0, 0, 0, 0, 0, 0, False, 0.0, "und", False))


@dataclass(frozen=True, slots=True)
class _Draft:
    """Everything decided before spaCy tokenises the text (so clean_many can batch that)."""

    text: str
    counts: tuple[int, ...]  # url, email, mention, hashtag, phone, wallet
    n_chars: int
    n_emoji: int
    emoji_only: bool
    upper_ratio: float
    lang: str
    truncated: bool


@cache
def _nlp() -> Language:
    import spacy  # imported lazily: it costs seconds and only cleaning needs it
    from spacy.symbols import ORTH

    nlp = spacy.blank("xx")
    for placeholder in P.PLACEHOLDERS:  # one token each, not "[", "url", "]"
        nlp.tokenizer.add_special_case(placeholder, [{ORTH: placeholder}])
    return nlp


# --- Orchestration ------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    # pandas hands pd.NA / NaN for missing cells; both fail the self-equality test.
    try:
        return bool(value != value)
    except TypeError:
        return True


def _prepare(raw: str) -> _Draft:
    """Every step before spaCy: normalise, read features, name emoji, insert placeholders."""
    t, hrefs = textnorm.normalise(raw[:MAX_CHARS])
    n_emoji, emoji_only = textnorm.emoji_stats(t)
    # Language and case are read before emoji names and placeholders are inserted.
    bare = P.EMOJI_RE.sub(" ", t) if n_emoji else t
    lang, upper = textnorm.language(bare), textnorm.upper_ratio(bare)
    u = P.CHAR_RUN_RE.sub(r"\1\1\1", t)
    u = P.replace_entities(textnorm.name_emoji(u, n_emoji))
    counts = tuple(u.count(p) for p in P.PLACEHOLDERS)
    counts = (counts[0] + hrefs, *counts[1:])
    u = " ".join(u.split())
    return _Draft(u, counts, len(t), n_emoji, emoji_only, upper, lang, len(raw) > MAX_CHARS)


def _spacy_fallback(t: str, doc: Doc) -> tuple[str, int, int]:
    """URLs/emails the regexes missed but spaCy's lexical attributes recognise."""
    from spacy.attrs import LIKE_EMAIL, LIKE_URL

    # Flags come back as one array: no Token object is built for the many ordinary words.
    flagged = doc.to_array([LIKE_URL, LIKE_EMAIL]).any(axis=1).nonzero()[0]
    parts, pos, n_url, n_email = [], 0, 0, 0
    for i in flagged.tolist():
        tok = doc[i]
        if tok.like_email:
            n_email += 1
        elif _url_ok(tok.text):
            n_url += 1
        else:
            continue
        parts += [t[pos : tok.idx], " [email] " if tok.like_email else " [url] "]
        pos = tok.idx + len(tok.text)
    return "".join([*parts, t[pos:]]), n_url, n_email


def _url_ok(tok: str) -> bool:
    tld = tok.rsplit(".", 1)[-1].split("/", 1)[0].split(":", 1)[0].lower()
    # like_url alone takes "amazing.love" for a link: ask for a path or a listed TLD.
    return "/" in tok or P.TLD_RE.fullmatch(tld) is not None


def _finish(d: _Draft, doc: Doc) -> Cleaned:
    t, counts = d.text, d.counts
    tokens = doc
    # To a fixed point, as replace_entities does: a placeholder can split off a neighbour
    # that spaCy then reads as a URL ("a.co/x@y.co" -> "a.co/ [email]"), which a second
    # clean would otherwise replace (found by scripts/fuzz.py).
    while P.FALLBACK_HINT_RE.search(t):
        t, n_url, n_email = _spacy_fallback(t, tokens)
        if not (n_url or n_email):
            break
        counts = (counts[0] + n_url, counts[1] + n_email, *counts[2:])
        t = " ".join(t.split())
        tokens = _nlp().tokenizer(t)
    t = _cap(_collapse_phrases(t))
    # "it's" and "its" collide; any other punctuation/symbol separates words.
    key = " ".join(P.KEY_DROP_RE.sub(" ", t.replace("'", "")).split())
    f = Features(
        d.n_chars, len(doc), *counts, d.n_emoji, d.emoji_only, d.upper_ratio, d.lang, d.truncated
    )
    return Cleaned(t, key.casefold(), f)


def _collapse_phrases(t: str) -> str:
    words = t.split(" ")
    # A phrase repeated 4 times repeats its first word 4 times; most comments have no such word.
    if len(words) - len(set(words)) < 3 or max(Counter(words).values()) < 4:
        return t
    for _ in range(3):
        t, n = P.PHRASE_RUN_RE.subn(r"\1 \1 \1", t)
        if not n:
            break
    return t


def _cap(t: str) -> str:
    if len(t) <= MAX_CHARS:
        return t
    cut = t.rfind(" ", 0, MAX_CHARS + 1)  # whole words only, so a re-clean sees the same words
    return t[: cut if cut > 0 else MAX_CHARS].rstrip()


def _check(text: object) -> str | None:
    if isinstance(text, str):
        return text
    if text is None or _is_missing(text):
        return None
    raise TypeError(f"clean() takes str or None, got {type(text).__name__}")


def clean(text: str | None) -> Cleaned:
    """Clean one comment; None/NA gives the empty result."""
    raw = _check(text)
    if raw is None:
        return _EMPTY
    draft = _prepare(raw)
    return _finish(draft, _nlp().tokenizer(draft.text))


def clean_many(texts: Iterable[str | None], batch_size: int = 1000) -> list[Cleaned]:
    """Same results as [clean(t) for t in texts]; repeated texts are cleaned once."""
    raws = [_check(t) for t in texts]
    unique = [t for t in dict.fromkeys(raws) if t is not None]
    drafts = [_prepare(t) for t in unique]
    docs = _nlp().tokenizer.pipe((d.text for d in drafts), batch_size=batch_size)
    done = {t: _finish(d, doc) for t, d, doc in zip(unique, drafts, docs, strict=True)}
    return [_EMPTY if t is None else done[t] for t in raws]
