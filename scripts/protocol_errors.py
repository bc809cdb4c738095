"""The out-of-fold errors of the shipped recipe on one protocol, most confident first.

    .venv/bin/python scripts/protocol_errors.py [--protocol uci_lovo] [--top 30] [--seed 14]

Reads the fold cache of scripts/evaluate_protocols.py (nothing is trained) and prints, as
markdown, the errors per video or post owner at p_spam >= 0.5 and the `--top` most
confident false positives and false negatives with their cleaned text (the dedup key).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from training.errors import error_counts, fold_errors
from training.prevalence import load_folds
from training.protocols import MODELS, recipe_cache

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", default="uci_lovo", choices=["uci_lovo", "scamspot_grouped"])
    parser.add_argument("--model", default="lora", choices=sorted(MODELS))
    parser.add_argument("--seed", type=int, help="the recipe's cache at this training seed")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    runs, config = REPO / "runs" / "protocols", REPO / "configs" / "train.toml"
    folds = load_folds(recipe_cache(runs, config, args.protocol, args.model, args.seed))
    print(error_counts(folds, args.threshold).to_markdown())
    errors = fold_errors(folds, args.threshold)
    for kind, part in errors.groupby("kind", sort=False):
        print(f"\n{kind}s ({len(part)}), most confident first:\n")
        shown = part.head(args.top)[["group", "p_spam", "key"]]
        print(shown.assign(key=shown["key"].str.slice(0, 140)).to_markdown(index=False))


if __name__ == "__main__":
    main()
