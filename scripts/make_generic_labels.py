"""Make the generic-comment labels of the training corpora and show what each rule decided.

    nice .venv/bin/python scripts/make_generic_labels.py [--datasets ../shared/datasets]
        [--rules configs/generic_lexicon.toml] [--out runs/generic_labels.csv]

The labels are a pure function of the corpora and the rules (training/generic_labels.py), so
training recomputes them; this script writes them for review. The output holds comment text
from the datasets, so it goes under runs/ (ignored by git), never into the repository.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from training import generic_labels  # noqa: E402


def dataset_files(datasets: Path) -> list[Path]:
    """The same files scripts/train_default.py trains on."""
    files = sorted((datasets / "youtube-spam-collection").glob("Youtube0*.csv"))
    files.append(datasets / "scamspot-instagram" / "comments.jsonl")
    if len(files) < 6 or not all(f.is_file() for f in files):
        raise SystemExit(f"labelled datasets not found under {datasets} (see its README.md)")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--rules", type=Path, default=generic_labels.DEFAULT_RULES)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "generic_labels.csv")
    args = parser.parse_args(argv)
    os.chdir(REPO)
    labels = generic_labels.build_labels(
        dataset_files(args.datasets), generic_labels.load_rules(args.rules)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    labels.to_csv(args.out, index=False)
    for name, value in generic_labels.counts(labels).items():
        print(f"{name:>28}: {value}")
    print(f"wrote {len(labels)} distinct texts to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
