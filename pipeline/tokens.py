"""Token ids for cleaned text: the model's fast (Rust) tokenizer, with its normaliser skipped
where skipping it provably changes nothing.

MiniLM's normaliser (BertNormalizer: drop control characters, space out CJK, strip accents,
lowercase) costs more than the rest of the tokenizer: ~55 of ~95 us a comment here. On
printable ASCII every one of its steps but lowercasing is the identity, so such texts (after
cleaning, most comments: emoji become names) are lowercased in Python and tokenised without
the normaliser: the same ids (tests/unit/test_tokens.py checks 1,000 real comments), in about
half the time. Any other normaliser, or any other text, takes the full tokenizer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


class Encoder:
    """Cleaned texts -> token ids, truncated at `max_length`, unpadded."""

    def __init__(self, tokenizer: Any, max_length: int) -> None:
        from tokenizers import Tokenizer

        spec = tokenizer.backend_tokenizer.to_str()
        self.full = _truncating(Tokenizer.from_str(spec), max_length)
        self.lowercase = _ascii_shortcut(json.loads(spec).get("normalizer"))
        self.bare = None
        if self.lowercase is not None:
            self.bare = _truncating(Tokenizer.from_str(spec), max_length)
            self.bare.normalizer = None

    def __call__(self, texts: Sequence[str]) -> list[list[int]]:
        if self.bare is None:
            return _ids(self.full, texts)
        plain = [t.isascii() and t.isprintable() for t in texts]
        lower = str.lower if self.lowercase else str
        fast = iter(_ids(self.bare, [lower(t) for t, p in zip(texts, plain, strict=True) if p]))
        slow = iter(_ids(self.full, [t for t, p in zip(texts, plain, strict=True) if not p]))
        return [next(fast) if p else next(slow) for p in plain]


def _ascii_shortcut(normalizer: dict | None) -> bool | None:
    """Whether printable ASCII must be lowercased to equal `normalizer`'s output; None where
    the normaliser may change such text otherwise (then there is no shortcut)."""
    if normalizer is None:
        return False
    if normalizer.get("type") == "Lowercase":
        return True
    if normalizer.get("type") == "BertNormalizer":
        # clean_text, handle_chinese_chars and strip_accents change no printable ASCII.
        return bool(normalizer.get("lowercase", True))
    return None


def _truncating(encoder: Any, max_length: int) -> Any:
    encoder.enable_truncation(max_length)
    encoder.no_padding()
    return encoder


def _ids(encoder: Any, texts: Sequence[str]) -> list[list[int]]:
    if not texts:
        return []
    # encode_batch_fast skips character offsets, which ids do not need (tokenizers >= 0.20).
    batch = getattr(encoder, "encode_batch_fast", encoder.encode_batch)
    return [e.ids for e in batch(list(texts))]
