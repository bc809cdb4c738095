"""Build a large synthetic comment export (CSV) from the real comments in ../shared/datasets.

    .venv/bin/python scripts/make_big_export.py -o /tmp/big.csv [--rows 1000000] [--seed 0]

About `--distinct` of the rows (default 70%) carry a text that occurs once: a real comment
with one word swapped, inserted or two comments spliced, so lengths stay like the real
ones. The other rows repeat texts already used, half of them as campaigns: one text pasted
by a small group of accounts on several posts within minutes. Rows get post ids, owners,
authors and ISO timestamps over a year. The same seed gives the same file.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from bench_clean import load_comments  # noqa: E402

FIELDS = ["comment_id", "post_id", "post_owner", "author", "text", "created_at"]
YEAR_S = 365 * 24 * 3600
START = 1_735_689_600  # 2025-01-01T00:00:00Z
_KEY = re.compile(r"\w+")


def key(text: str) -> str:
    """A cheap stand-in for the dedup key: lower-cased words only."""
    return " ".join(_KEY.findall(text.lower()))


def mutate(rng: random.Random, text: str, other: str, vocab: list[str]) -> str:
    words, second = text.split(), other.split()
    kind = rng.random()
    if kind < 0.4 and words:
        words[rng.randrange(len(words))] = rng.choice(vocab)
    elif kind < 0.7 or not second:
        words.insert(rng.randrange(len(words) + 1), rng.choice(vocab))
    else:
        cut = rng.randrange(len(words) + 1)
        words = words[:cut] + second[rng.randrange(len(second)) :]
    return " ".join(words) or rng.choice(vocab)


def distinct_texts(rng: random.Random, base: list[str], n: int) -> list[str]:
    """`n` texts whose keys differ from each other (real comments first, then mutants)."""
    vocab = sorted({w for t in base for w in t.split() if w.isalpha() and len(w) < 15})
    seen: set[str] = set()
    out: list[str] = []
    for text in base:
        if len(out) < n and key(text) not in seen:
            seen.add(key(text))
            out.append(text)
    while len(out) < n:
        text = mutate(rng, rng.choice(base), rng.choice(base), vocab)
        if key(text) not in seen:
            seen.add(key(text))
            out.append(text)
    rng.shuffle(out)
    return out


def rows(rng: random.Random, texts: list[str], n_rows: int, n_posts: int) -> list[list]:
    """Every distinct text once, then repeats (half organic, half campaign pastes), shuffled."""
    n_authors = max(10, n_rows // 7)
    out = [_row(rng, t, rng.randrange(n_posts), rng.randrange(n_authors)) for t in texts]
    popular = texts[: max(1, len(texts) // 50)]  # repeats favour a few texts, as in real exports
    while len(out) < n_rows:
        text = rng.choice(popular)
        if rng.random() < 0.5:
            out.append(_row(rng, text, rng.randrange(n_posts), rng.randrange(n_authors)))
        else:
            out += _campaign(rng, text, rng.randrange(n_posts), n_authors, n_rows - len(out))
    rng.shuffle(out)
    return out


def _campaign(rng: random.Random, text: str, post: int, n_authors: int, left: int) -> list:
    """5-30 pastes of one text on one post by three bot accounts within minutes."""
    at = START + rng.randrange(YEAR_S)
    bots = [n_authors + rng.randrange(500) for _ in range(3)]
    out = []
    for _ in range(min(rng.randint(5, 30), left)):
        at += rng.randrange(20)
        out.append(_row(rng, text, post, rng.choice(bots), at))
    return out


def _row(rng: random.Random, text: str, post: int, author: int, at: int | None = None) -> list:
    at = at if at is not None else START + rng.randrange(YEAR_S)
    stamp = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [None, f"p{post}", f"owner{post % 211}", f"user{author}", text, stamp]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--distinct", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    base = [t for t in load_comments(args.datasets) if t.strip()]
    texts = distinct_texts(rng, base, int(args.rows * args.distinct))
    with args.output.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(FIELDS)
        for i, row in enumerate(rows(rng, texts, args.rows, max(1, args.rows // 500))):
            row[0] = f"c{i}"
            writer.writerow(row)
    print(f"{args.rows:,} rows ({len(texts):,} distinct texts) -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
