"""Text normalisation for the cleaning stage: Unicode, markup and emoji, and the features
read from the normalised text (language, case, emoji counts).

Pure string functions; pipeline.clean orders them and adds placeholders and spaCy's pass.
"""

from __future__ import annotations

import html
import unicodedata

import pycld2

from pipeline import patterns as P

MARKUP_ROUNDS = 4  # nested escaping deeper than this is adversarial; it gets defused instead
_ASCII_UPPER, _ASCII_LOWER = bytes(range(65, 91)), bytes(range(97, 123))
_CLD2_CODES = {"iw": "he", "jw": "jv", "in": "id"}  # CLD2 still speaks pre-1989 ISO codes


# --- Unicode: invisibles, NFKC, fancy letters, homoglyphs -------------------------------


def _unicode_pass(t: str) -> str:
    t = P.CONTROL_RE.sub(" ", t)
    if "`" in t:
        t = t.replace("`", "'")  # "can`t" is an apostrophe typed on the wrong key
    if t.isascii():
        return t
    t = P.SURROGATE_RE.sub("", t)  # lone surrogates cannot be encoded for CLD2 or files
    # Invisibles go before NFKC so that NFKC sees (and composes) what is left.
    t = P.BLANK_RE.sub(" ", P.INVISIBLE_RE.sub("", t))
    if t.isascii():  # the YouTube export's trailing BOM was the only non-ASCII character
        return t
    # Quotes both sides of NFKC: it would split "´" into a space and an accent, and it turns
    # some compatibility characters (‴) into ones the table maps.
    t = unicodedata.normalize("NFKC", t.translate(P.PUNCT_TABLE)).translate(P.PUNCT_TABLE)
    t = P.FANCY_SYMBOL_RE.sub(lambda m: P.fancy_symbol(m.group()), t)
    if P.GLUE_HINT_RE.search(t) and (u := P.GLUE_RE.sub("", t)) != t:
        t = unicodedata.normalize("NFKC", u)  # an orphan joiner may have blocked a composition
    return P.FOLD_WORD_RE.sub(lambda m: P.fold_word(m.group()), t)


def _markup_pass(t: str, hrefs: list[int]) -> str:
    if "&" in t:
        t = html.unescape(t)
    if "<" in t:
        t = P.TAG_RE.sub(lambda m: _strip_tag(m.group(), hrefs), t)
    return t


def _strip_tag(tag: str, hrefs: list[int]) -> str:
    hrefs[0] += bool(P.HREF_RE.match(tag))  # the link text stays, the target counts as a URL
    return " "


def normalise(t: str) -> tuple[str, int]:
    hrefs = [0]
    t = _unicode_pass(t)
    for _ in range(MARKUP_ROUNDS):
        if "&" not in t and "<" not in t:
            break
        u = _unicode_pass(_markup_pass(t, hrefs))
        if u == t:
            break
        t = u
    else:
        t = P.MARKUP_TRIGGER_RE.sub(lambda m: m.group() + " ", t)
    return " ".join(t.split()), hrefs[0]


# --- Emoji --------------------------------------------------------------------------------


def emoji_stats(t: str) -> tuple[int, bool]:
    if t.isascii() or not P.EMOJI_CHAR_RE.search(t):
        return 0, False
    n = len(P.EMOJI_RE.findall(t))
    return n, n > 0 and not P.LETTER_OR_DIGIT_RE.search(P.EMOJI_RE.sub("", t))


def name_emoji(t: str, n_emoji: int) -> str:
    if n_emoji:
        t = P.EMOJI_RE.sub(lambda m: P.emoji_name(m.group()), t)
    # Joiners/selectors left over (VS16 after a bare digit, say) mean nothing without emoji.
    return P.EMOJI_GLUE_RE.sub("", t) if P.GLUE_HINT_RE.search(t) else t


# --- Features -----------------------------------------------------------------------------


def language(t: str) -> str:
    try:
        reliable, _, details = pycld2.detect(t, isPlainText=True)
    except Exception:  # pycld2.error on odd bytes; language is a hint, never a failure
        return "und"
    code = details[0][1]
    if not reliable or code == "un" or code.startswith("xx"):
        return "und"
    return _CLD2_CODES.get(code, code.split("-")[0])


def upper_ratio(t: str) -> float:
    if t.isascii():  # bytes.translate deletes in C: far cheaper than a regex findall
        b = t.encode()
        upper = len(b) - len(b.translate(None, _ASCII_UPPER))
        cased = upper + len(b) - len(b.translate(None, _ASCII_LOWER))
    else:
        upper, cased = len(P.UPPER_RE.findall(t)), len(P.CASED_RE.findall(t))
    return round(upper / cased, 4) if cased else 0.0
