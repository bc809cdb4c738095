"""Run the cross-validated evaluation protocols and write docs/evaluation.md.

Resumable: each (protocol, fold, model) result is cached under runs/protocols/. Long (many
fine-tunes on CPU), so run it niced in the background:
    nice -n 19 .venv/bin/python scripts/evaluate_protocols.py

`--card models/default` then sets that model's decision threshold, its error rates and the
report's prevalence rates from its recipe's out-of-fold predictions (training/operating_point.py,
training/prevalence.py) and adds the tables to its model card.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training.config import load_train_config  # noqa: E402
from training.evaluate import revalidated  # noqa: E402
from training.export import refresh_card  # noqa: E402
from training.operating_point import manifest_fields, rethreshold  # noqa: E402
from training.prevalence import prevalence_fields  # noqa: E402
from training.protocols import MODELS, PROTOCOLS, load_datasets, run_protocols  # noqa: E402
from training.protocols_report import card_summary, write_report  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "train.toml")
    parser.add_argument("--runs", type=Path, default=REPO / "runs" / "protocols")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "evaluation.md")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--card", type=Path, help="also add the results to this model's card")
    parser.add_argument(
        "--card-model", default="lora", choices=sorted(MODELS), help="the recipe of --card"
    )
    parser.add_argument(
        "--cached-only", action="store_true", help="report the cached folds, train nothing"
    )
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. train.lr=5e-4")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    results = run_protocols(
        load_datasets(args.datasets), args.config, args.overrides, args.protocols.split(","),
        args.models.split(","), args.runs, cached_only=args.cached_only,
    )  # fmt: skip
    target = load_train_config(args.config, args.overrides).calibration.target_precision
    results = rethreshold(results, target)
    write_report(results, args.out, args.config, args.overrides)
    print(f"wrote {args.out}")
    if args.card:
        fields = manifest_fields(results, args.card_model, target)
        fields["prevalence"] = prevalence_fields(results, args.card_model)
        fields["metrics"] = revalidated(args.card, fields["threshold"])
        refresh_card(args.card, card_summary(results), fields)
        print(f"updated the model card and prevalence error rates of {args.card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
