"""Properties of the cleaning stage over arbitrary text (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline import clean as C

# Everything, lone surrogates included (st.text() alone never yields them).
ANY_CHAR = st.characters(codec=None, exclude_categories=())
# The characters the cleaning rules react to, so examples hit the interesting paths often.
TRICKY = st.sampled_from(
    list("aAoO0159 .@#&;<>/:_-+()[]$!'\n")
    + ["\u200b", "\u200d", "\ufe0f", "\ufeff", "\u202e", "\u0301", "\ud800", "\x00", "\u00ad"]
    + ["а", "ο", "Ꮯ", "ⓒ", "𝓗", "ł", "ǝ", "ß", "и", "é", "ﬁ", "\u3164", "\U000e0067"]
    + ["🔥", "👍", "🏽", "🇺", "🇸", "👨", "🏴", "1️⃣", "❤", "😂"]
    + ["&amp;", "&lt;", "<b>", "</a>", "<a href='x'>", "www.", ".com", "http://", " at ", " dot "]
    + ["@user", "#tag", "+1 555 123 4567", "0x" + "ab" * 20, "[url]", "  ", "gmail"]
)
TEXT = st.one_of(st.text(ANY_CHAR, max_size=80), st.lists(TRICKY, max_size=40).map("".join))
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@SETTINGS
@given(TEXT)
@example("\ud800")
@example("#a_1234567890")
@example("x@y.com@z.com")
# Found by scripts/fuzz.py: NFKC makes a "`" after the fold of "`" to "'"; an [email]
# placeholder splits off a URL that only a second clean replaced.
@example("it\uff40s \u1fef")
@example("a.co4/x@b.co4/v")
def test_never_raises_and_is_idempotent(text: str) -> None:
    first = C.clean(text)
    assert C.clean(first.text).text == first.text
    first.text.encode("utf-8")
    first.dedup_key.encode("utf-8")


@SETTINGS
@given(TEXT)
def test_dedup_key_is_casefolded_and_trimmed(text: str) -> None:
    key = C.clean(text).dedup_key
    assert key == key.casefold()
    assert key == " ".join(key.split())


@SETTINGS
@given(st.lists(TRICKY, min_size=10, max_size=60).map("".join))
def test_output_is_bounded_and_truncation_stays_idempotent(text: str) -> None:
    # A tiny limit makes both the input cut and the output cap happen on most examples.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(C, "MAX_CHARS", 40)
        first = C.clean(text)
        assert len(first.text) <= 40
        assert first.features.truncated == (len(text) > 40)
        assert C.clean(first.text).text == first.text


@SETTINGS
@given(st.lists(st.one_of(st.none(), TEXT), max_size=8))
def test_clean_many_equals_clean(texts: list[str | None]) -> None:
    assert C.clean_many(texts) == [C.clean(t) for t in texts]


CASES = st.sampled_from(list("aAtTwWdDoO.:/@ (<[{\u017f\u212a\u0130\u0131ｗ09+-") + ["\u0660"])


@SETTINGS
@given(st.one_of(TEXT, st.lists(CASES, max_size=30).map("".join)))
@example("AT gmail")
@example("WwW")
@example("DoT")
@example("+\u0660\u0661")  # Arabic-Indic digits are \d too
def test_entity_prefilters_never_skip_a_match(text: str) -> None:
    """The substring tests in front of the entity regexes only skip texts they cannot match."""
    from pipeline import patterns as P

    assert P._may_be_email(text) or not P.EMAIL_HINT_RE.search(text)
    assert P._may_be_url(text) or not P.URL_HINT_RE.search(text)
    assert P.DIGIT_RE.search(text) or not P.PHONE_RE.search(text)
