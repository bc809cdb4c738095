"""Patterns and cached character tables for the cleaning stage (`pipeline.clean`).

Regexes are compiled once at import: plain `re` where a fixed character class will do (it
scans faster), the `regex` module where Unicode properties, \\X or \\G are needed. The
per-character and per-word folding decisions are cached, since comments reuse both heavily.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

import emoji
import regex
from anyascii import anyascii
from confusable_homoglyphs import confusables

PLACEHOLDERS = ("[url]", "[email]", "[mention]", "[hashtag]", "[phone]", "[wallet]")
PLACEHOLDER_RE = regex.compile(r"\[(?:url|email|mention|hashtag|phone|wallet)\]")

# Entity patterns. URL/email/wallet/phone use plain `re` (2-4x faster than `regex` here);
# its Unicode \w is letters, digits and "_" (no marks), so boundaries ignore invisibles.
# Mention/hashtag use `regex` for \p{M} and \G: "#a#b#c" is three hashtags in one pass.
_W = r"[\p{L}\p{N}_]"
_WM = r"[\p{L}\p{M}\p{N}_]"

# Safe without a path: ccTLDs and gTLDs that are not also everyday words ("so", "me", "it",
# "live", "love"), so "amazing.so funny" stays text while "site.ru" is a link.
_TLDS = (
    "com|net|org|info|biz|edu|gov|mil|int|io|co|ly|xyz|top|site|online|club|shop|store|vip|win|bid"
    "|loan|icu|cyou|cam|pro|mobi|asia|tel|ru|uk|fr|nl|pl|br|cn|jp|kr|au|ca|eu|tv|cc|ws|su|tk|ml"
    "|ga|cf|gq|pw|gl|ph|ng|pk|za|mx|ar|ua|vn|ir|tr|kz|ch|se|fi|dk|cz|hu|ro|gr|pt|il|nz|sg|hk|tw"
)
TLD_RE = re.compile(_TLDS)
_MAIL_HOSTS = (
    "gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|protonmail|proton|yandex"
    "|mail|gmx|zoho|qq|163|126|tutanota"
)
_LABEL = r"[a-z0-9][a-z0-9-]*+"  # possessive: no backtracking inside words
_DOT_OBF = r"(?:\s*[(\[{<]\s*(?:dot|\.)\s*[)\]}>]\s*|\s+dot\s+)"
_DOT_ANY = rf"(?:{_DOT_OBF}|\s*\.\s*)"
_DOT_SPACED = rf"(?:{_DOT_OBF}|\s+\.\s*|\s*\.\s+)"
_PATH = r"(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]}'])?"
_END = r"(?![\w-])"

EMAIL_RE = re.compile(
    rf"(?i)(?<![\w.+\-])(?>[a-z0-9][a-z0-9._%+\-]*)(?<=[a-z0-9_])"
    rf"(?:@(?:{_LABEL}\.)+[a-z]{{2,24}}{_END}"
    rf"|(?:\s*[(\[{{<]\s*at\s*[)\]}}>]\s*|\s+at\s+(?=(?:{_MAIL_HOSTS}){_DOT_ANY})|\s+@\s+)"
    rf"{_LABEL}(?:{_DOT_ANY}{_LABEL})*?{_DOT_ANY}(?:{_TLDS}){_END})"
)
URL_RE = re.compile(
    rf"(?i)(?<![\w@.\-])(?:"
    rf"(?:h[tx]{{2}}ps?|ftp)\s*:\s*/\s*/\s*[^\s<>\"]*[^\s<>\".,;:!?)\]}}']"
    rf"|www\d{{0,3}}{_DOT_ANY}{_LABEL}(?:{_DOT_ANY}{_LABEL})*{_PATH}"
    rf"|(?:{_LABEL}\.)+(?:{_TLDS}){_END}{_PATH}"
    rf"|(?:{_LABEL}\.)+[a-z]{{2,24}}/[^\s<>\"]*[^\s<>\".,;:!?)\]}}']"
    rf"|{_LABEL}{_DOT_SPACED}(?:{_TLDS}){_END}{_PATH})"
)
_B58 = r"[1-9A-HJ-NP-Za-km-z]"
WALLET_RE = re.compile(
    rf"(?<!\w)(?:(?i:0x[0-9a-f]{{40}})|(?:bc1|tb1)[02-9ac-hj-np-z]{{11,71}}"
    rf"|(?:BC1|TB1)[02-9AC-HJ-NP-Z]{{11,71}}"
    rf"|(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*[0-9])[0-9a-fA-F]{{32,}}"
    rf"|(?={_B58}*[1-9])(?={_B58}*[A-HJ-NP-Z])(?={_B58}*[a-km-z]){_B58}{{26,44}})(?!\w)"
)
PHONE_RE = re.compile(
    r"(?<![\w+$€£¥.,/:#\-])(?:\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,5}"
    r"|\(\d{3}\)[ .\-]?\d{3}[ .\-]?\d{4}|\d{3}[.\-]\d{3}[.\-]\d{4}|\d{3} \d{3} \d{4}|\d{10,13})"
    r"(?!\w|%|[.,]\d)"
)
MENTION_RE = regex.compile(
    rf"(?:\G|(?<![\p{{L}}\p{{N}}_@]))@{_W}(?:[\p{{L}}\p{{M}}\p{{N}}_.]*{_WM})?"
)
HASHTAG_RE = regex.compile(rf"(?:\G|(?<![\p{{L}}\p{{N}}_&#]))#(?=[\p{{N}}_]*\p{{L}})({_W}{_WM}*)")

# Cheap gates: most comments hold nothing that EMAIL_RE / URL_RE / WALLET_RE could match, and
# scanning for their one necessary ingredient is several times faster than trying them.
EMAIL_HINT_RE = re.compile(rf"(?i)\w@|\s@\s|[(\[{{<]\s*at\s*[)\]}}>]|\sat\s+(?:{_MAIL_HOSTS})")
URL_HINT_RE = re.compile(
    rf"(?i):\s*/|www|[a-z0-9-]\.[a-z]|dot|[(\[{{<]\s*\.|\s\.|\.\s+(?:{_TLDS})(?![a-z])"
)
WALLET_HINT_RE = re.compile("[0-9A-Za-z]{26}")
DIGIT_RE = re.compile(r"\d")  # every branch of PHONE_RE has one


# Cheaper still, in front of the two hints: a substring every branch of the hint needs. About
# half the comments fail it, for a fraction of the cost of the hint's alternation at every
# position (~12 of ~180 us a comment). Edit these with their hint; a hypothesis test
# (test_clean_properties) checks that no text the hint matches fails them.
def _may_be_email(t: str) -> bool:
    return "@" in t or "at" in t.lower()  # EMAIL_HINT_RE: "@", or "at" in any case


def _may_be_url(t: str) -> bool:
    # URL_HINT_RE: ".", ":", or "www" / "dot" in any case.
    return "." in t or ":" in t or "www" in (low := t.lower()) or "dot" in low


# A placeholder glued to a non-space (or hashtag words) may expose a new match next round.
_KINDS = r"\[(?:url|email|mention|phone|wallet)\]"
EXPOSED_RE = re.compile(rf"\S {_KINDS}|{_KINDS} \S|\[hashtag\]")
FALLBACK_HINT_RE = re.compile(r"\S\.\S|@|://")  # what spaCy's like_url/like_email need

# Markup: tags are stripped (text of <a> kept), an <a href> counts as a link.
TAG_RE = regex.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", regex.DOTALL)
HREF_RE = regex.compile(r"(?i)^<a\s[^>]*href")
# What is still markup-like when the bounded unescape/strip loop gives up: split it apart.
MARKUP_TRIGGER_RE = regex.compile(r"&(?=[#\p{L}\p{N}])|<(?=[\p{L}/!])")

# Invisible format characters (Unicode Cf, spelled out so plain `re` can scan fast), variation
# selectors, skin tones (dropped on purpose) and combining grapheme joiner. ZWJ, VS16 and tag
# characters are not here: they are kept where they glue an emoji sequence (GLUE_RE decides).
INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180b-\u180e"
    "\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufe00-\ufe0e\ufeff"
    "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U0001f3fb-\U0001f3ff\U000e0001\U000e0100-\U000e01ef]"
)
# Filler characters that render as blank space (used for "invisible" names): become spaces.
BLANK_RE = re.compile("[\u115f\u1160\u2800\u3164\uffa0]")
GLUE_HINT_RE = re.compile("[\u200d\ufe0f\U000e0020-\U000e007f]")
# Joiners that glue nothing: ZWJ not between two emoji, VS16 not after an emoji (or inside a
# keycap), tag characters outside a subdivision flag. Run after NFKC, which may turn an emoji
# into letters (Ⓜ -> M), so that no orphan survives to split or join words later.
GLUE_RE = regex.compile(
    r"(?<!\p{ExtPict}\ufe0f?)\u200d|\u200d(?!\p{ExtPict})"
    r"|(?<!\p{ExtPict}|[0-9#*](?=\ufe0f\u20e3))\ufe0f"
    r"|(?<!\U0001f3f4[\U000e0020-\U000e007e]*)[\U000e0020-\U000e007f]"
)
EMOJI_GLUE_RE = re.compile("[\u200d\ufe0e\ufe0f\U000e0020-\U000e007f]")
SURROGATE_RE = re.compile("[\ud800-\udfff]")
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
EMOJI_CHAR_RE = regex.compile(r"[\p{ExtPict}\p{RI}\u20e3]")
EMOJI_RE = regex.compile(r"(?=[\p{ExtPict}\p{RI}]|[0-9#*]\ufe0f?\u20e3)\X")
NAME_RE = regex.compile(r"\x01([^\x01\x02]*)\x02")

# Words that may need folding: runs of letters/marks/digits holding at least one non-ASCII.
# VS16 and the keycap mark belong to emoji, which become separate words once named.
_WORD = r"[[\p{L}\p{M}\p{N}]--[\ufe0f\u20e3]]"
FOLD_WORD_RE = regex.compile(rf"(?<!{_WORD})[a-zA-Z0-9]*+[{_WORD}--[a-zA-Z0-9]]{_WORD}*+", regex.V1)
LATIN_RE = regex.compile(r"\p{Script=Latin}")
INHERITED_MARK_RE = regex.compile(r"[\p{M}&&\p{Script=Inherited}]", regex.V1)
# Scripts that real comments here never use for words, only to spoof Latin letters.
SPOOF_SCRIPTS_RE = regex.compile(r"[\p{Script=Cherokee}\p{Script=Lisu}]")
# Enclosed/negative-squared letters (🅒🅡🅨) carry no NFKC decomposition.
FANCY_SYMBOL_RE = regex.compile(r"[\U0001f130-\U0001f189]")

# Typographic punctuation folded to ASCII so copy-paste variants and the model agree.
PUNCT_TABLE = str.maketrans(
    {
        # "`" too: NFKC makes it out of fullwidth and Greek graves (\uff40, \u1fef).
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc\u00b4`", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    }
)

CHAR_RUN_RE = re.compile(r"(\D)\1{3,}")  # digits excluded: 1000000 is a number, not noise
PHRASE_RUN_RE = re.compile(r"(?<!\S)(\S++(?: \S++){0,7}?)(?: \1(?!\S)){3,}")  # re: 4x faster
# Placeholders survive (\K keeps their brackets out of the match); other punctuation goes.
KEY_DROP_RE = regex.compile(r"\[(?:url|email|mention|hashtag|phone|wallet)\]\K|[\p{P}\p{S}]+")
LETTER_OR_DIGIT_RE = regex.compile(r"[\p{L}\p{N}]")
UPPER_RE = regex.compile(r"\p{Lu}")
CASED_RE = regex.compile(r"[\p{Lu}\p{Ll}\p{Lt}]")


# --- Entity placeholders ----------------------------------------------------------------


def _phone(m: Any) -> str:
    digits = [c for c in m.group() if c.isdigit()]
    bare = len(digits) == len(m.group())
    if not 7 <= len(digits) <= 15 or (bare and m.group().endswith("00000")):
        return m.group()  # a big round number, not a phone
    return " [phone] "


def _hashtag(m: Any) -> str:
    return " [hashtag] " + m.group(1).replace("_", " ") + " "  # the words carry meaning


def _entity_round(t: str) -> str:
    if _may_be_email(t) and EMAIL_HINT_RE.search(t):
        t = EMAIL_RE.sub(" [email] ", t)
    if _may_be_url(t) and URL_HINT_RE.search(t):
        t = URL_RE.sub(" [url] ", t)
    if WALLET_HINT_RE.search(t):
        t = WALLET_RE.sub(" [wallet] ", t)
    if DIGIT_RE.search(t):
        t = PHONE_RE.sub(_phone, t)
    if "@" in t:
        t = MENTION_RE.sub(" [mention] ", t)
    if "#" in t:
        t = HASHTAG_RE.sub(_hashtag, t)
    return t


def replace_entities(t: str) -> str:
    """URLs, emails, wallets, phones, mentions and hashtags become typed placeholders."""
    # Padding a placeholder with spaces can expose a neighbour (hashtag words, a phone glued
    # to a handle or to another phone), so rounds run to a fixed point: that is what makes a
    # second clean a no-op. A placeholder with whitespace on both sides exposed nothing and
    # needs no further round. Every changing round consumes entity text; the cap is a seatbelt.
    for _ in range(256):
        u = _entity_round(t)
        if u == t or not EXPOSED_RE.search(u):
            return u
        t = u
    return t


# --- Cached folding tables ------------------------------------------------------------


@cache
def _latin_ascii(ch: str) -> str:
    """Latin letters lose accents (the uncased tokenizer strips them anyway)."""
    if ch.isascii() or not LATIN_RE.match(ch):
        return ch
    return "".join(c for c in anyascii(ch) if c.isalnum())  # no "'" from "ŉ": words stay whole


@cache
def _lookalike(ch: str) -> str:
    """The ASCII letter a non-Latin letter imitates ('а' -> 'a', 'Ꮯ' -> 'C'), or ''."""
    found = confusables.is_confusable(ch, greedy=True, preferred_aliases=["latin"]) or []
    for entry in found:
        for glyph in entry["homoglyphs"]:
            if len(glyph["c"]) == 1 and glyph["c"].isascii() and glyph["c"].isalpha():
                return glyph["c"]
    return ""


@lru_cache(maxsize=1 << 16)
def fold_word(word: str) -> str:
    s = "".join(map(_latin_ascii, word))
    n_latin = sum(c.isascii() and c.isalpha() for c in s)
    others = [c for c in s if c.isalpha() and not c.isascii()]
    # A non-Latin letter is a spoof when it sits in a mostly-Latin word (or every one of them
    # imitates Latin), or when the word is in a script only spoofers use here (Cherokee,
    # Lisu); real Russian/Greek/Arabic words stay as they are for language id and the model.
    all_alike = bool(others) and all(map(_lookalike, others))
    mostly_latin = n_latin > 0 and (n_latin >= len(others) or all_alike)
    if mostly_latin or (others and all(SPOOF_SCRIPTS_RE.match(c) for c in others)):
        s = "".join(_lookalike(c) or c if not c.isascii() and c.isalpha() else c for c in s)
    if any(c.isascii() and c.isalpha() for c in s):
        s = INHERITED_MARK_RE.sub("", s)  # zalgo and stray accents on Latin letters
    return s


@cache
def fancy_symbol(ch: str) -> str:
    return "".join(c for c in anyascii(ch) if c.isalpha())


@lru_cache(maxsize=8192)
def emoji_name(grapheme: str) -> str:
    names = NAME_RE.findall(emoji.demojize(grapheme, delimiters=("\x01", "\x02")))
    return " " + anyascii(" ".join(names).replace("_", " ")) + " "
