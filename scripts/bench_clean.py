"""Throughput of the cleaning stage on the real comments in ../shared/datasets.

Run on one core:  taskset -c 0 .venv/bin/python scripts/bench_clean.py
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from pipeline import clean as C  # noqa: E402

DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"


def load_comments(root: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted((root / "youtube-spam-collection").glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["CONTENT"] for row in csv.DictReader(fh)]
    with (root / "scamspot-instagram" / "comments.jsonl").open(encoding="utf-8") as fh:
        texts += [json.loads(line)["text"] for line in fh if line.strip()]
    return texts


def timed(label: str, n: int, work: Callable[[], object]) -> float:
    """Run work once; print comments per wall second and per CPU second (shared machines)."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<42} {n:>6}  {n / wall:>8,.0f}/s wall  {n / cpu:>8,.0f}/s cpu")
    return n / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--n", type=int, default=20_000, help="repeat the corpus to this many")
    args = parser.parse_args()
    base = load_comments(args.datasets)
    texts = (base * (args.n // len(base) + 1))[: args.n]
    unique = list(dict.fromkeys(base))
    C.clean("warm up spaCy 🔥")  # loading spaCy is not throughput
    print(f"{'comments/s, one process':<42} {'n':>6}")
    # First pass is cold: spaCy's token cache and the folding caches start empty.
    timed("clean_many(), unique texts, cold caches", len(unique), lambda: C.clean_many(unique))
    timed(
        "clean() loop, unique texts, warm caches", len(unique), lambda: [C.clean(t) for t in unique]
    )
    timed("clean() loop, corpus repeated", len(texts), lambda: [C.clean(t) for t in texts])
    timed("clean_many(), corpus repeated", len(texts), lambda: C.clean_many(texts))


if __name__ == "__main__":
    main()
