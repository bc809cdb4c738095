"""Pseudonymous commenters: handles replaced by a keyed hash before anything else sees them.

`--pseudonymize` applies `Pseudonymizer` to each chunk right after it is read, so cleaning,
scoring, signals, reports and every output file only ever hold pseudonyms. A pseudonym is
HMAC-SHA256 of the handle (case and a leading @ ignored) under a secret key: the same handle
gives the same pseudonym in every run with the same key, so repeat authors and copy-paste
rings stay visible, while without the key nobody can test a guess (a plain hash of a handle
is undone by hashing a list of handles).

What is replaced: the author column; @mentions (also with a fullwidth @) in the comment text
and any other text column; whole values of passthrough columns that identify the commenter
(author ids, handles, screen and display names, profile URLs, owner objects of scraper exports,
nested replies), but not counts and flags about them (repliesCount, owner.is_verified).
Post owners are kept: they are the public accounts being audited, and campaign files name them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipeline.config import ConfigError

KEY_ENV = "COMMENT_AUDIT_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
PREFIX = "user_"
# 12 hex digits (48 bits): among a million handles the odds of any two sharing a pseudonym
# are about 0.2%; with 10 digits they would be about 40%.
DIGITS = 12
# A handle after an @ that does not follow a word character (so e-mail addresses are left
# alone); trailing dots and dashes are sentence punctuation, not part of the handle.
# Fullwidth and small @ (U+FF20, U+FE6B) read as @ on screen, and cleaning folds them to it.
AT_SIGNS = "@\uff20\ufe6b"
MENTION = re.compile(rf"(?<!\w)[{AT_SIGNS}](\w(?:[\w.\-]*\w)?)")
# Passthrough columns whose values identify the commenter (Apify's owner.* is the commenter).
IDENTITY = re.compile(
    r"author|user|owner|commenter|from\.|profile|replies|channel|handle|screen_?name|nick"
    r"|unique_?id|display_?name|login|account|^(?:full_?|first_?|last_?)?name$",
    re.IGNORECASE,
)
# ...except counts, kinds and flags about the commenter (repliesCount, followerscount,
# account_type, owner.is_verified); the "count" in "account" is no count.
NOT_IDENTITY = re.compile(
    r"(?i:(?<!ac)count|type$|kind$|verified|private)|(?i:(?:^|[._])(?:is|has)_)"
    r"|(?:^|[a-z.])(?:is|Is|has|Has)[A-Z]"
)
FLAGS = frozenset({"true", "false"})
# Columns that never hold a handle: left alone, which also keeps scoring fast.
KEEP = {"comment_id", "post_id", "post_owner", "created_at", "created_at_raw", "label",
        "source_file", "clean_text", "dedup_key", "lang", "pred_label", "reasons",
        "cluster_id"}  # fmt: skip


def load_key(key_file: Path | None = None, env: Mapping[str, str] = os.environ) -> bytes:
    """The secret key from `key_file`, else from $COMMENT_AUDIT_PSEUDONYM_KEY; refuse none."""
    if key_file is not None:
        try:
            key = Path(key_file).read_bytes().strip()
        except OSError as e:
            raise ConfigError(f"--pseudonym-key-file {key_file}: {e.strerror or e}") from e
    else:
        key = env.get(KEY_ENV, "").strip().encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        what = "is too short" if key else "is missing"
        raise ConfigError(
            f"--pseudonymize needs a secret key, and it {what}: set {KEY_ENV} or pass"
            f" --pseudonym-key-file FILE with at least {MIN_KEY_BYTES} characters (e.g. from"
            " `openssl rand -hex 32`). Keep it secret, and reuse it to get the same pseudonyms"
        )
    return key


def pseudonym(handle: str, key: bytes) -> str:
    """'user_' + 12 hex digits; 'Ann', '@ann' and ' ann ' give the same pseudonym."""
    name = handle.strip().lstrip("@").casefold().encode("utf-8", "surrogatepass")
    return PREFIX + hmac.new(key, name, hashlib.sha256).hexdigest()[:DIGITS]


def replace_mentions(text: str, key: bytes) -> str:
    if not any(at in text for at in AT_SIGNS):
        return text
    return MENTION.sub(lambda m: "@" + pseudonym(m.group(1), key), text)


def pseudonymize_frame(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """A copy of `frame` with every commenter handle replaced (see the module docstring)."""
    out = frame.copy()
    for column in out.columns:
        if column in KEEP or not _is_text(out[column]):
            continue
        if column == "author":
            out[column] = _mapped(out[column], lambda v: pseudonym(v, key) if v.strip() else v)
        elif column != "text" and identifies(str(column)):
            out[column] = _mapped(out[column], lambda v: _identity_value(v, key))
        else:
            out[column] = _mapped(out[column], lambda v: replace_mentions(v, key))
    return out


def identifies(column: str) -> bool:
    """A passthrough column whose values are the commenter (not a count or flag about them)."""
    return bool(IDENTITY.search(column)) and not NOT_IDENTITY.search(column)


def _identity_value(value: str, key: bytes) -> str:
    # JSON booleans arrive as "true"/"false"; an id column's blank or flag is no handle.
    if not value.strip() or value.strip().casefold() in FLAGS:
        return value
    return pseudonym(value, key)


def _is_text(values: pd.Series) -> bool:
    # The dtype's test (not the values'): object, "string", or Arrow's large_string that Ray's
    # parts come back in.
    return pd.api.types.is_string_dtype(values.dtype)


def _mapped(values: pd.Series, func) -> pd.Series:
    # Each distinct value once: exports repeat authors and texts a lot.
    table = {v: func(v) for v in values.dropna().unique() if isinstance(v, str)}
    return values.map(lambda v: table.get(v, v) if isinstance(v, str) else v).astype(values.dtype)


class Pseudonymizer:
    """The per-chunk transform for `score_file`; `fingerprint` names the key, not reveals it."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.fingerprint = hashlib.sha256(b"comment-audit pseudonym key\0" + key).hexdigest()[:12]

    def __call__(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pseudonymize_frame(frame, self._key)

    def __repr__(self) -> str:
        return f"Pseudonymizer(key {self.fingerprint})"
