"""Per ScamSpot owner: corrected fake-share estimate vs the labelled spam share, out of fold.

    .venv/bin/python scripts/check_prevalence.py [--seed 14 | --cache DIR_OF_FOLD_JSONS]
    .venv/bin/python scripts/check_prevalence.py --model models/default   # in-sample

Prints a markdown table and a PASS/FAIL line (issue: within 5 points for every owner with
>= 50 labelled comments, and 95% intervals covering the truth for >= 90% of them), then, out
of fold, the same owners under the uncorrected estimators and the coverage of intervals that
leave out the between-owner spread of the error rates (docs/statistics.md).

By default out of fold: each owner scored by a protocol model that never saw it. With
`--model` the check is taken literally: that model scores the whole file and the report's
own per-owner numbers are compared with the labels; for a model trained on these owners
(the shipped ones) that is in-sample and optimistic, so it is printed as such.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from pipeline.io import read_chunks
from pipeline.score import clean_frame
from training import protocols
from training.prevalence import alternatives, load_folds, owner_table, shipped_table, verdict

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "datasets" / "scamspot-instagram" / "comments.jsonl"


def recipe_cache(seed: int | None) -> Path:
    """The fold cache of the shipped LoRA recipe (configs/train.toml), at `seed` if given."""
    runs, config = REPO / "runs" / "protocols", REPO / "configs" / "train.toml"
    cache = protocols.recipe_cache(runs, config, "scamspot_grouped", "lora", seed)
    if not cache.is_dir():
        raise SystemExit(f"no protocol results in {cache}; run scripts/evaluate_protocols.py")
    return cache


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="a fold cache directory")
    parser.add_argument("--seed", type=int, help="the recipe's cache at this training seed")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--min-labelled", type=int, default=50)
    parser.add_argument("--model", type=Path, help="score with this model (in-sample check)")
    args = parser.parse_args()
    rows = pd.concat([clean_frame(c) for c in read_chunks(args.data)], ignore_index=True)
    labelled = rows[rows["label"].notna()]
    if args.model:
        from pipeline.backends import load_classifier

        table = shipped_table(labelled, load_classifier(args.model, "torch"), args.min_labelled)
        print(f"IN-SAMPLE: {args.model} was trained on most of these owners' comments")
    else:
        table = owner_table(
            labelled, load_folds(args.cache or recipe_cache(args.seed)), args.min_labelled
        )
    print(table.round(3).to_markdown(index=False))
    print(verdict(table))
    if not args.model:
        print(alternatives(table))


if __name__ == "__main__":
    main()
