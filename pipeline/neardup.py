"""Near-duplicate components over distinct texts: vectorised MinHash LSH, exact Jaccard checks.

The result equals inserting every key into datasketch's `MinHashLSH` (with LSH_WEIGHTS) one by
one and keeping a candidate pair when its true shingle Jaccard passes (the loop this replaced):
the same sha1 shingle hashes, permutations and bands give the same candidates. What changes
is the cost. Signatures are computed block-wise in numpy with each distinct shingle hashed once,
candidates come from grouping equal bands (by 64-bit fingerprint), and a key is checked
against each other component in its band group until one member passes, so a family of
1,000 variants of one spam text costs about 1,000 Jaccard checks instead of 500,000 (an
edge inside a component changes nothing, so the components are the same).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH

_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)  # MurmurHash3 finalizer, as datasketch's affine32
_WINDOWS = 1 << 15  # shingle windows per signature block: 16 MB of uint32 at 128 perms
_BITS = 21  # a code point (+1) fits in 21 bits, so up to 3 of them pack into one uint64
# How datasketch weighs false positives against false negatives when it picks bands x rows.
# Every candidate is checked exactly, so a false positive costs only a Jaccard check, while a
# false negative is a copy left out of its cluster. Equal weights (9 bands of 13 rows at 0.8)
# made a pair at Jaccard 0.80-0.85 a candidate about half the time and found 133 of the 165
# merges among the real comments' distinct keys; 14 x 9 finds 163 (docs/benchmarks.md).
LSH_WEIGHTS = (0.1, 0.9)


def components(
    keys: list[str], threshold: float, k: int, num_perm: int, seed: int, min_chars: int
) -> np.ndarray:
    """Component label (an index into `keys`) per key; keys under `min_chars` stay alone."""
    labels = np.arange(len(keys))
    eligible = np.array([i for i, key in enumerate(keys) if len(key) >= min_chars], dtype=np.int64)
    if len(eligible) < 2:
        return labels
    texts = [_normalised(keys[i]) for i in eligible]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=LSH_WEIGHTS)
    prints = band_fingerprints(texts, k, num_perm, seed, lsh.b, lsh.r)
    sets = _ShingleSets(texts, k)
    parent = list(range(len(texts)))  # union-find; a list is faster than numpy per element
    for group in band_groups(prints):
        _link(group, parent, sets, threshold)
    roots = np.array([_find(parent, i) for i in range(len(texts))], dtype=np.int64)
    labels[eligible] = eligible[roots]
    return labels


def signatures(texts: list[str], k: int, num_perm: int, seed: int) -> np.ndarray:
    """(n, num_perm) uint32 MinHash values of whitespace-normalised texts, equal to
    datasketch's MinHash(...).hashvalues over their character k-grams."""
    sig = np.empty((num_perm, len(texts)), dtype=np.uint32)
    for lo, block in _signature_blocks(texts, k, num_perm, seed):
        sig[:, lo : lo + block.shape[1]] = block
    return sig.T


def band_fingerprints(
    texts: list[str], k: int, num_perm: int, seed: int, bands: int, rows: int
) -> np.ndarray:
    """(n, bands) uint64: a 64-bit fingerprint of each LSH band of each text's signature.

    Holding 9 fingerprints instead of 128 hash values per text saves 0.3 GB per million
    texts. Equal bands give equal fingerprints; a false match needs a 2^-64 collision and
    its pair still has to pass the exact Jaccard check."""
    out = np.empty((len(texts), bands), dtype=np.uint64)
    # Only bands * rows of the permutations enter a band (117 of 128 at the defaults).
    for lo, block in _signature_blocks(texts, k, num_perm, seed, bands * rows):
        for band in range(bands):
            out[lo : lo + block.shape[1], band] = _fingerprint(
                block[band * rows : (band + 1) * rows]
            )
    return out


def _fingerprint(rows: np.ndarray) -> np.ndarray:
    """Mix a (r, n) uint32 block column-wise into n uint64 values (multiply-xorshift)."""
    h = np.full(rows.shape[1], 0x9E3779B97F4A7C15, dtype=np.uint64)
    for row in rows.astype(np.uint64):
        h = (h ^ row) * np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


def _signature_blocks(
    texts: list[str], k: int, num_perm: int, seed: int, used: int | None = None
) -> Iterator[tuple[int, np.ndarray]]:
    """(first text index, (used, m) uint32 signatures of m consecutive texts: the first
    `used` of num_perm hash values, all by default)."""
    template = MinHash(num_perm=num_perm, seed=seed)
    a, b = (np.asarray(p[:used], dtype=np.uint32)[:, None] for p in template.permutations)
    # Blocks of 4 x _WINDOWS windows: larger ones were no faster and cost ~60 MB more.
    vocab = np.unique(
        np.concatenate([pd.unique(_windows(block, k)[0]) for block in _blocks(texts, k, 4)])
    )
    hv = _fmix32(np.fromiter(map(_sha1_32, _decode(vocab, k)), np.uint32, len(vocab)))
    lookup = pd.Index(vocab)  # a hash table: 4x faster than searchsorted on ~20M windows
    # Permutation-major layout: the min over a text's windows runs along contiguous memory
    # (10x faster than reducing rows), and one reused buffer avoids fresh page faults.
    buf = np.empty((len(a), _WINDOWS), dtype=np.uint32)
    lo = 0
    for block in _blocks(texts, k, 1):
        codes, starts = _windows(block, k)
        h = hv[lookup.get_indexer(codes)][None, :]
        n = h.shape[1]
        permuted = buf[:, :n] if n <= _WINDOWS else np.empty((len(a), n), np.uint32)
        np.multiply(a, h, out=permuted)
        permuted += b  # uint32 wraparound is the modulo 2^32 of the affine permutation
        yield lo, np.minimum.reduceat(permuted, starts, axis=1)
        lo += len(block)


def _blocks(texts: list[str], k: int, scale: int) -> Iterator[list[str]]:
    """Consecutive runs of texts with about `scale` x _WINDOWS windows (or one long text)."""
    windows = np.cumsum([max(len(t) - k + 1, 1) for t in texts])
    lo = 0
    while lo < len(texts):
        base = windows[lo - 1] if lo else 0
        hi = max(lo + 1, int(np.searchsorted(windows, base + scale * _WINDOWS, side="right")))
        yield texts[lo:hi]
        lo = hi


def _windows(texts: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Packed k-char windows of every text, and where each text's windows start.

    A text shorter than k is one window, the whole text, so it still matches its exact copies."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    codes = np.append(codes.astype(np.uint64) + 1, np.uint64(0))  # +1: 0 is "past the end"
    n_win = np.maximum(lengths - k + 1, 1)
    starts = np.cumsum(n_win) - n_win
    owner = np.repeat(np.arange(len(texts)), n_win)
    first = offsets[owner] + np.arange(len(owner)) - starts[owner]
    width = np.minimum(lengths[owner], k)
    last = len(codes) - 1  # the appended 0: where a short text's window runs past its end
    rows = np.stack([np.where(j < width, codes[np.minimum(first + j, last)], codes[last])
                     for j in range(k)], axis=1)  # fmt: skip
    if k * _BITS <= 64:
        packed = np.zeros(len(rows), dtype=np.uint64)
        for j in range(k):
            packed = (packed << np.uint64(_BITS)) | rows[:, j]
        return packed, starts
    return np.ascontiguousarray(rows).view(np.dtype((np.void, 8 * k))).ravel(), starts


def _decode(vocab: np.ndarray, k: int) -> list[str]:
    """Packed windows back to their strings (for the sha1 that datasketch would take)."""
    if vocab.dtype == np.uint64:
        shifts = np.uint64(_BITS) * np.arange(k - 1, -1, -1, dtype=np.uint64)
        rows = (vocab[:, None] >> shifts) & np.uint64((1 << _BITS) - 1)
    else:
        rows = vocab.view(np.uint64).reshape(len(vocab), k)
    return ["".join(chr(c - 1) for c in row if c) for row in rows.tolist()]


def band_groups(prints: np.ndarray) -> Iterator[np.ndarray]:
    """Index arrays of texts that share one whole band (groups of two or more)."""
    for band in range(prints.shape[1]):
        inverse = pd.factorize(prints[:, band])[0]
        shared = np.flatnonzero(np.bincount(inverse)[inverse] > 1)  # most bands are unique
        order = shared[np.argsort(inverse[shared], kind="stable")]
        yield from (
            np.split(order, np.flatnonzero(np.diff(inverse[order])) + 1) if len(order) else ()
        )


class _ShingleSets:
    """Shingle sets of texts, built on demand. Only the last thousand are kept: a set costs
    ~13 KB, and comparisons happen within one band group at a time (4,096 kept saved 0.2%
    of the builds on 200,000 keys and cost 22 MB more)."""

    def __init__(self, texts: list[str], k: int) -> None:
        self.texts, self.k = texts, k
        self.get = functools.lru_cache(maxsize=1024)(self._build)

    def _build(self, i: int) -> set[str]:
        text, k = self.texts[i], self.k
        return {text[j : j + k] for j in range(max(1, len(text) - k + 1))}

    def __getitem__(self, i: int) -> set[str]:
        return self.get(i)


def _link(group: np.ndarray, parent: list[int], sets: _ShingleSets, threshold: float) -> None:
    """Union each member with every earlier component of the group that it truly overlaps."""
    earlier: dict[int, list[int]] = {}  # component root -> its members seen in this group
    for x in group.tolist():
        for root in list(earlier):
            members = earlier.pop(root)
            current = _find(parent, root)
            if current != _find(parent, x) and any(
                _jaccard(sets[x], sets[y]) >= threshold for y in members
            ):
                parent[current] = _find(parent, x)
            earlier.setdefault(_find(parent, current), []).extend(members)
        earlier.setdefault(_find(parent, x), []).append(x)


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression keeps later finds short
        parent[i], i = root, parent[i]
    return root


def _jaccard(a: set[str], b: set[str]) -> float:
    shared = len(a & b)  # |a | b| from the sizes: building the union cost 3x the check
    return shared / (len(a) + len(b) - shared)


def _normalised(key: str) -> str:
    text = " ".join(key.split())
    return key if text == key else text  # keep the caller's object: no million copies


def _sha1_32(shingle: str) -> int:
    return int.from_bytes(hashlib.sha1(shingle.encode("utf-8")).digest()[:4], "little")


def _fmix32(hv: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hv ^ (hv >> np.uint32(s1))
    hv = hv * np.uint32(m1)
    hv = hv ^ (hv >> np.uint32(s2))
    hv = hv * np.uint32(m2)
    return hv ^ (hv >> np.uint32(s3))
