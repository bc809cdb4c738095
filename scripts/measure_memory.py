"""Peak memory of scoring a big export: builds it in /tmp, scores it in a child, reads its rusage.

    .venv/bin/python scripts/measure_memory.py [--rows 5000000] [--model models/default]
        [--record docs/reliability/memory.json]

The export (CSV, never committed) repeats a small pool of texts over many posts, authors and
timestamps, like a big comment dump; it is built once per row count and reused. The child is
`python -m pipeline score ... --no-progress`; its peak resident set size comes from wait4(),
so the number is the kernel's, not a sampling guess. Exit code 1 when it is over --limit-mb.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A small vocabulary: the texts repeat, as copy-paste campaigns and short praise do.
VOCAB = "love this so much check my page free followers dm me great video song earn money fast"
WORDS = (VOCAB + " click link bio wow the best content crypto invest now thanks").split()


def main() -> None:
    args = parse_args()
    export = build_export(args.rows, Path(args.dir))
    stats = measure(export, Path(args.model), Path(args.dir) / "scored.parquet")
    stats["limit_mb"] = args.limit_mb
    print(json.dumps(stats, indent=2))
    if args.record:
        Path(args.record).parent.mkdir(parents=True, exist_ok=True)
        Path(args.record).write_text(json.dumps(stats, indent=2) + "\n")
    sys.exit(0 if stats["exit_code"] == 0 and stats["peak_rss_mb"] < args.limit_mb else 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--model", default=str(REPO / "models" / "default"))
    parser.add_argument("--dir", default="/tmp/comment-audit-memory")
    parser.add_argument("--limit-mb", type=int, default=2048)
    parser.add_argument("--record", help="write the result as JSON here")
    return parser.parse_args()


def texts(n: int, rng: random.Random) -> list[str]:
    return [" ".join(rng.choices(WORDS, k=rng.randint(2, 14))) for _ in range(n)]


def build_export(rows: int, directory: Path) -> Path:
    """rows comments from 5,000 texts, 20,000 posts, 200,000 authors (built once, reused)."""
    path = directory / f"export-{rows}.csv"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    pool = texts(5_000, rng)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["comment_id", "post_id", "post_owner", "author", "text", "created_at"])
        for i in range(rows):
            post, author = rng.randrange(20_000), rng.randrange(200_000)
            when = f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z"
            text = pool[rng.randrange(len(pool))]
            out.writerow([f"c{i}", f"p{post}", f"owner{post % 300}", f"user{author}", text, when])
    tmp.replace(path)
    return path


def measure(export: Path, model: Path, output: Path) -> dict:
    """Score `export` in a child process; its peak RSS from wait4 (ru_maxrss is in KiB)."""
    cmd = [sys.executable, "-m", "pipeline", "score", str(export), "-o", str(output),
           "--model", str(model), "--no-progress"]  # fmt: skip
    started = time.monotonic()
    child = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    return {
        "rows": sum(1 for _ in open(export, "rb")) - 1,
        "model": str(model),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "wall_seconds": round(time.monotonic() - started),
        "exit_code": child.returncode,
        "commit": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip(),  # fmt: skip
        "stderr_tail": child.stderr.read().decode(errors="replace")[-500:],
    }


if __name__ == "__main__":
    main()
