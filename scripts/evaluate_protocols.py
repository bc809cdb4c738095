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
from training.data import load_examples  # noqa: E402
from training.export import refresh_card  # noqa: E402
from training.fit import PREVALENCE_THRESHOLD  # noqa: E402
from training.operating_point import manifest_fields, rethreshold  # noqa: E402
from training.prevalence import pooled_rates, pooled_spread  # noqa: E402
from training.protocols import MODELS, PROTOCOLS, cached_fold, config_key, folds  # noqa: E402
from training.protocols_report import MODEL_NAMES, card_summary, write_report  # noqa: E402


def prevalence_rates(results: dict, model: str = "lora") -> dict:
    """Error rates for the report's prevalence correction: the out-of-fold predictions of
    `model`'s recipe on unseen videos and post owners, at p_spam >= 0.5 (training.prevalence)."""
    folds = [f for p in ("uci_lovo", "scamspot_grouped") for f in results[p][model]]
    return {
        "threshold": PREVALENCE_THRESHOLD,
        "error_rates": pooled_rates(folds),
        "between_groups": pooled_spread(folds),
        "source": "out-of-fold predictions of the uci_lovo and scamspot_grouped protocols"
        f" ({MODEL_NAMES.get(model, model)} recipe, docs/evaluation.md)",
    }


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    paths = {
        "youtube": sorted((args.datasets / "youtube-spam-collection").glob("Youtube0*.csv")),
        "instagram": [args.datasets / "scamspot-instagram" / "comments.jsonl"],
    }
    data = {name: load_examples(files)[0] for name, files in paths.items()}
    results: dict = {}
    for protocol in args.protocols.split(","):
        for model in args.models.split(","):
            cfg = load_train_config(args.config, [*args.overrides, *MODELS[model]])
            cache = args.runs / config_key(cfg) / protocol / model
            runs = [
                (cache / f"{name}.json", train, test)
                for name, train, test in folds(protocol, data, cfg.train.seed)
            ]
            if args.cached_only and not all(path.is_file() for path, _, _ in runs):
                continue  # a model is shown only with all its folds
            results.setdefault(protocol, {})[model] = [
                cached_fold(path, model, cfg, train, test) for path, train, test in runs
            ]
    target = load_train_config(args.config, args.overrides).calibration.target_precision
    results = rethreshold(results, target)
    write_report(results, args.out, args.config, args.overrides)
    print(f"wrote {args.out}")
    if args.card:
        fields = manifest_fields(results, args.card_model, target)
        fields["prevalence"] = prevalence_rates(results, args.card_model)
        refresh_card(args.card, card_summary(results), fields)
        print(f"updated the model card and prevalence error rates of {args.card}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
