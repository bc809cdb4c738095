"""The vectorised near-duplicate search gives exactly what the one-key-at-a-time LSH loop gave."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from datasketch import MinHash, MinHashLSH

from pipeline import neardup

BASE = [
    "check out my channel for free music and subscribe",
    "i made 25k with her trading plan, message her now",
    "this song never gets old, still listening in 2015",
    "free bitcoin giveaway click the link in my bio now",
    "love the chorus 🔥🔥 so much héhé",
]


def shingles(text: str, k: int) -> set[str]:
    text = " ".join(text.split())
    return {text[i : i + k] for i in range(max(1, len(text) - k + 1))}


def reference(keys: list[str], threshold: float, k: int, perms: int, min_chars: int):
    """The loop neardup replaced: insert each key into MinHashLSH, verify candidates exactly."""
    lsh = MinHashLSH(threshold=threshold, num_perm=perms, weights=neardup.LSH_WEIGHTS)
    template = MinHash(perms, seed=1)
    sets, parent = {}, list(range(len(keys)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for i, key in enumerate(keys):
        if len(key) < min_chars:
            continue
        sets[i] = shingles(key, k)
        sketch = MinHash(perms, permutations=template.permutations, scheme=template.scheme)
        sketch.update_batch([s.encode("utf-8") for s in sets[i]])
        for j in lsh.query(sketch):
            if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold:
                parent[find(i)] = find(j)
        lsh.insert(i, sketch, check_duplication=False)
    return np.array([find(i) for i in range(len(keys))])


def variants(n: int, seed: int) -> list[str]:
    """Families of near-identical texts (one word changed) plus unrelated short ones."""
    rng = random.Random(seed)
    out = set()
    while len(out) < n:
        words = rng.choice(BASE).split()
        words[rng.randrange(len(words))] = rng.choice(["x", "wow", "now", "zz", "spam", "ok"])
        out.add(" ".join(words) if rng.random() < 0.9 else " ".join(words[:2]))
    return sorted(out)


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(
        (pd.Series(a).groupby(b).nunique() == 1).all()
        and (pd.Series(b).groupby(a).nunique() == 1).all()
    )


@pytest.mark.parametrize("k", [3, 4, 1])
def test_signatures_equal_datasketch(k):
    texts = ["hello world this is spam", "héllo 🔥🔥 wörld", "ab", "x" * 50, "a  b"]
    template = MinHash(num_perm=64, seed=7)
    got = neardup.signatures([" ".join(t.split()) for t in texts], k, 64, 7)
    for text, row in zip(texts, got, strict=True):
        sketch = MinHash(64, permutations=template.permutations, scheme=template.scheme)
        sketch.update_batch([s.encode("utf-8") for s in shingles(text, k)])
        assert np.array_equal(sketch.hashvalues, row), text


@pytest.mark.parametrize("seed,threshold", [(0, 0.8), (1, 0.5), (2, 0.9)])
def test_components_equal_reference_loop(seed, threshold):
    keys = variants(300, seed)
    got = neardup.components(keys, threshold, 3, 128, 1, 12)
    assert same_partition(got, reference(keys, threshold, 3, 128, 12))
    assert len(set(got.tolist())) < len(keys)  # the families really do cluster


def test_short_keys_stay_alone_and_edge_cases():
    assert neardup.components([], 0.8, 3, 128, 1, 12).tolist() == []
    assert neardup.components(["a long enough text here"], 0.8, 3, 128, 1, 12).tolist() == [0]
    keys = ["short", "short!", "a long enough text here", "a long enough text here!"]
    labels = neardup.components(keys, 0.8, 3, 128, 1, 12)
    assert labels[0] != labels[1] and labels[2] == labels[3]


def test_pairs_just_above_the_threshold_are_found():
    # Pairs at Jaccard 0.80-0.85: with equal LSH weights (9 x 13) about half were candidates.
    rng = random.Random(0)
    words = ["spam", "free", "music", "channel", "subscribe", "check", "out", "video", "thanks"]
    pairs = []
    while len(pairs) < 150:
        base = " ".join(rng.choice(words) for _ in range(rng.randint(12, 20)))
        edit = list(base)
        for _ in range(rng.randint(1, 4)):
            edit[rng.randrange(len(edit))] = rng.choice("xyzq")
        other = "".join(edit)
        a, b = shingles(base, 3), shingles(other, 3)
        if 0.8 <= len(a & b) / len(a | b) < 0.85:
            pairs.append((base, other))
    found = [neardup.components([a, b], 0.8, 3, 128, 1, 12) for a, b in pairs]
    assert np.mean([labels[0] == labels[1] for labels in found]) >= 0.85
