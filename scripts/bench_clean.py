"""Throughput of the cleaning stage on the real comments in ../shared/datasets.

Run on one core:  taskset -c 0 .venv/bin/python scripts/bench_clean.py
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

from pipeline import clean as C

DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def load_comments(root: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted((root / "youtube-spam-collection").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["CONTENT"] for row in csv.DictReader(fh)]
    with (root / "scamspot-instagram" / "comments.jsonl").open(encoding="utf-8") as fh:
        texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def rate(label: str, n: int, seconds: float) -> float:
    print(f"{label:<44} {n:>6} comments  {n / seconds:>9,.0f} comments/s")
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--n", type=int, default=20_000, help="repeat the corpus to this many")
    args = parser.parse_args()
    base = load_comments(args.datasets)
    texts = (base * (args.n // len(base) + 1))[: args.n]
    unique = list(dict.fromkeys(base))
    C.clean("warm up spaCy 🔥")  # model load is not throughput
    start = time.perf_counter()
    for t in unique:
        C.clean(t)
    rate("clean() loop, unique comments (cold caches)", len(unique), time.perf_counter() - start)
    start = time.perf_counter()
    for t in texts:
        C.clean(t)
    rate("clean() loop, repeated corpus", len(texts), time.perf_counter() - start)
    start = time.perf_counter()
    C.clean_many(unique)
    rate("clean_many(), unique comments", len(unique), time.perf_counter() - start)
    start = time.perf_counter()
    C.clean_many(texts)
    rate("clean_many(), repeated corpus", len(texts), time.perf_counter() - start)


if __name__ == "__main__":
    main()
