"""Token ids for cleaned text: the model's fast (Rust) tokenizer, with its normaliser skipped
where skipping it provably changes nothing.

MiniLM's normaliser (BertNormalizer: drop control characters, space out CJK, strip accents,
lowercase) costs more than the rest of the tokenizer: ~55 of ~95 us a comment here. On
printable ASCII every one of its steps but lowercasing is the identity, so such texts (after
cleaning, most comments: emoji become names) are lowercased in Python and tokenised without
the normaliser: the same ids (tests/unit/test_tokens.py checks 1,000 real comments), in about
half the time. Any other normaliser, or any other text, takes the full tokenizer.

Scoring reads a model dir's tokenizer with `tokenizers` alone (`load_tokenizer`): importing
transformers for it cost ~1.3 s a process. Training uses transformers' tokenizer
(`load_hf_tokenizer`); both come from the same saved `tokenizer.json`, and the tests check
they give the same ids.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class SavedTokenizer:
    """A model dir's fast tokenizer as saved (`tokenizer.json`), and its padding id: what
    scoring needs from transformers' tokenizer, without transformers."""

    def __init__(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        self.backend_tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        config_path = directory / "tokenizer_config.json"
        config = json.loads(config_path.read_text("utf-8")) if config_path.is_file() else {}
        pad = config.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad  # a saved AddedToken
        self.pad_token_id = self.backend_tokenizer.token_to_id(pad) if pad else None


def load_tokenizer(directory: Path) -> SavedTokenizer:
    """The tokenizer scoring uses (see the module docstring)."""
    return SavedTokenizer(Path(directory))


def load_hf_tokenizer(directory: Path) -> Any:
    """transformers' tokenizer of a model or encoder dir, for training (it pads and collates)."""
    from transformers import AutoTokenizer

    from pipeline.network import quiet_transformers

    with quiet_transformers():
        return AutoTokenizer.from_pretrained(str(directory), trust_remote_code=False)


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
