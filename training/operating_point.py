"""The decision threshold of a recipe, chosen on out-of-fold predictions.

A model's own validation split holds the comments of 4-6 creators or videos, so the lowest
threshold reaching the target precision there lands anywhere between 0.15 and 0.94 from one
training run to the next (docs/evaluation.md), and recall with it. The protocols' out-of-fold
predictions hold every labelled comment of both datasets, each scored by a model of the same
recipe that never saw its creator or video: the threshold is chosen there instead, once for
the shipped model (scripts/evaluate_protocols.py --card) and, for each test fold, on the
other folds only, so the protocol tables measure the rule without its test data.

It is steadier, not stable: where the pooled precision runs flat near the target, the lowest
threshold reaching it still jumps with the training seed (docs/model.md, two seeds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.model import calibrated
from training.calibrate import choose_threshold, error_rates, fit_temperature
from training.evaluate import binary_metrics

# The protocols whose folds are unseen creators or videos of the shipped model's domains.
IN_DOMAIN = ("uci_lovo", "scamspot_grouped")
RULE = "lowest with out-of-fold precision >= {target}"
# Fold fields that depend on the threshold (binary_metrics), replaced when it changes.
THRESHOLD_FIELDS = ("threshold", "precision", "recall", "f1", "mcc", "confusion")


def pooled(folds: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
    """Test predictions and labels of `folds`, concatenated."""
    p = np.concatenate([np.asarray(f["p"], dtype=float) for f in folds])
    y = np.concatenate([np.asarray(f["y"], dtype=int) for f in folds])
    return p, y


def oof_threshold(folds: list[dict[str, Any]], target_precision: float) -> dict[str, Any]:
    """The lowest threshold whose precision over `folds`' pooled predictions reaches the
    target, as a manifest's `threshold_rule`, with the error rates there."""
    p, y = pooled(folds)
    chosen = choose_threshold(p, y, target_precision)
    if chosen["rule"].startswith("lowest"):
        chosen["rule"] = RULE.format(target=target_precision)
    chosen["fitted_on"] = (
        f"out-of-fold predictions of the evaluation protocols ({len(y):,} comments, "
        f"{len(folds)} folds; docs/evaluation.md)"
    )
    chosen["error_rates"] = error_rates(p, y, chosen["threshold"])
    return chosen


def oof_temperature(folds: list[dict[str, Any]]) -> float | None:
    """The temperature minimising the NLL of `folds`' pooled uncalibrated margins; None when
    a fold's cache predates margins (training.protocols)."""
    if not folds or any("margin" not in f for f in folds):
        return None
    margin = np.concatenate([np.asarray(f["margin"], dtype=float) for f in folds])
    y = np.concatenate([np.asarray(f["y"], dtype=int) for f in folds])
    return fit_temperature(_logits(margin), y)


def recalibrated(fold: dict[str, Any], temperature: float) -> dict[str, Any]:
    """`fold` with its predictions `p` recomputed from its margins at `temperature`."""
    p = calibrated(_logits(np.asarray(fold["margin"], dtype=float)), temperature)
    return {**fold, "p": np.round(p, 5).tolist(), "temperature": temperature}


def _logits(margin: np.ndarray) -> np.ndarray:
    return np.column_stack([np.zeros_like(margin), margin])


def in_domain_folds(results: dict[str, dict[str, list]], model: str) -> list[dict[str, Any]]:
    return [f for protocol in IN_DOMAIN for f in results.get(protocol, {}).get(model, [])]


def rethreshold(results: dict[str, dict[str, list]], target_precision: float) -> dict:
    """`results` with every in-domain fold's threshold metrics taken at the threshold chosen
    on the other in-domain folds of the same model (its fitted one kept as
    `validation_threshold`). Cross-domain protocols keep their validation thresholds: their
    recipe has no out-of-fold predictions of its own."""
    out = {protocol: dict(by_model) for protocol, by_model in results.items()}
    for protocol in IN_DOMAIN:
        for model, folds in results.get(protocol, {}).items():
            pool = in_domain_folds(results, model)
            out[protocol][model] = [_held_out(f, pool, target_precision) for f in folds]
    return out


def _held_out(fold: dict[str, Any], pool: list[dict], target_precision: float) -> dict:
    others = [f for f in pool if f is not fold]
    if not others:
        return fold
    threshold = oof_threshold(others, target_precision)["threshold"]
    metrics = binary_metrics(fold["y"], fold["p"], threshold)
    return {
        **fold,
        **{k: metrics[k] for k in THRESHOLD_FIELDS},
        "validation_threshold": fold["threshold"],
    }


def manifest_fields(results: dict[str, dict[str, list]], model: str, target: float) -> dict:
    """The shipped model's `threshold`, `threshold_rule` and `error_rates` from all of its
    recipe's in-domain out-of-fold predictions."""
    chosen = oof_threshold(in_domain_folds(results, model), target)
    rates = chosen.pop("error_rates")
    return {"threshold": chosen["threshold"], "threshold_rule": chosen, "error_rates": rates}
