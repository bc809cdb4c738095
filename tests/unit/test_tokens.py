"""The tokenizer scoring uses (pipeline.tokens): the same ids as transformers' tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import Tokenizer

from pipeline.tokens import Encoder, _ascii_shortcut, load_hf_tokenizer, load_tokenizer

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"
TEXTS = [
    "Check out my channel [url] :red_heart:",
    "HELLO World!!! it's 5am",
    "Café olé, naïve résumé",  # accents: the normaliser strips them
    "日本語のコメント and English",  # CJK: the normaliser spaces it out
    "tab\there",  # not printable: the full tokenizer
    "",
    "spam " * 100,  # truncated at max_length
]


def reference(tokenizer, texts: list[str], max_length: int) -> list[list[int]]:
    """Ids as transformers' tokenizer gives them."""
    return tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]


def test_same_ids_as_the_tokenizer(tiny_model_dir):
    encoder = Encoder(load_tokenizer(tiny_model_dir), 16)
    assert encoder.bare is not None  # a BERT normaliser: the shortcut applies
    assert encoder(TEXTS) == reference(load_hf_tokenizer(tiny_model_dir), TEXTS, 16)
    assert encoder([]) == []


def test_same_ids_on_real_comments(real_comments):
    encoder = Encoder(load_tokenizer(DEFAULT_MODEL), 96)
    # MiniLM's BertNormalizer lowercases: the ASCII texts go through the bare, lowercasing path.
    assert encoder.bare is not None and encoder.lowercase is True
    assert sum(t.isascii() and t.isprintable() for t in real_comments) > 500  # the shortcut ran
    assert encoder(real_comments) == reference(load_hf_tokenizer(DEFAULT_MODEL), real_comments, 96)


def test_saved_tokenizer_is_transformers_tokenizer(tiny_model_dir):
    """Scoring reads tokenizer.json without transformers: the same tokenizer and pad id."""
    for directory in (tiny_model_dir, DEFAULT_MODEL):
        saved, hf = load_tokenizer(directory), load_hf_tokenizer(directory)
        assert saved.backend_tokenizer.to_str() == hf.backend_tokenizer.to_str()
        assert saved.pad_token_id == hf.pad_token_id


def test_shortcut_only_for_normalisers_it_reproduces():
    assert _ascii_shortcut({"type": "BertNormalizer", "lowercase": True}) is True
    assert _ascii_shortcut({"type": "BertNormalizer", "lowercase": False}) is False
    assert _ascii_shortcut({"type": "Lowercase"}) is True
    assert _ascii_shortcut(None) is False
    assert _ascii_shortcut({"type": "NFKC"}) is None
    assert _ascii_shortcut({"type": "Sequence", "normalizers": []}) is None


def test_another_normaliser_takes_the_full_tokenizer(tiny_model_dir):
    tokenizer = load_hf_tokenizer(tiny_model_dir)  # a private copy: its normaliser is replaced
    spec = json.loads(tokenizer.backend_tokenizer.to_str())
    spec["normalizer"] = {"type": "Replace", "pattern": {"String": "o"}, "content": "0"}
    tokenizer.backend_tokenizer.normalizer = Tokenizer.from_str(json.dumps(spec)).normalizer
    encoder = Encoder(tokenizer, 16)
    assert encoder.bare is None
    assert encoder(TEXTS) == reference(tokenizer, TEXTS, 16)
