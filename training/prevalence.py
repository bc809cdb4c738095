"""Does the report's corrected prevalence recover the true spam share per creator?

The check runs out of fold: every ScamSpot owner is scored by a protocol model that never
saw that owner (the `scamspot_grouped` folds of training.protocols), flagged at that model's
threshold and corrected with the error rates that model measured on its own validation
split, exactly as `comment-audit report --by owner` does with a shipped model's manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.aggregate import ErrorRates, corrected_prevalence, wilson_interval


def load_folds(cache_dir: Path) -> list[dict]:
    """The cached fold results of one model on the owner-grouped ScamSpot protocol."""
    folds = [json.loads(p.read_text()) for p in sorted(cache_dir.glob("*.json"))]
    if not folds or any("keys" not in f or not f.get("error_rates") for f in folds):
        raise FileNotFoundError(
            f"no usable fold results in {cache_dir}; run scripts/evaluate_protocols.py "
            "--protocols scamspot_grouped --models lora first"
        )
    return folds


def fold_scores(folds: list[dict]) -> tuple[dict[str, float], dict[str, dict]]:
    """(dedup key -> out-of-fold p_spam, owner group -> the fold that held it out)."""
    p_by_key, fold_of_group = {}, {}
    for fold in folds:
        p_by_key.update(zip(fold["keys"], fold["p"], strict=True))
        fold_of_group.update({g: fold for g in fold["groups"]})
    return p_by_key, fold_of_group


def owner_table(rows: pd.DataFrame, folds: list[dict], min_labelled: int = 50) -> pd.DataFrame:
    """Per owner with >= `min_labelled` labelled comments: estimate, interval and truth.

    `rows` holds every labelled comment (not deduplicated) with post_owner, dedup_key, label."""
    p_by_key, fold_of_group = fold_scores(folds)
    out = []
    for owner, part in rows.groupby("post_owner"):
        fold = fold_of_group.get(f"post_owner:{owner}")
        if len(part) < min_labelled or fold is None:
            continue
        out.append(_owner_row(owner, part, fold, p_by_key))
    return pd.DataFrame(out)


def fold_rates(fold: dict) -> ErrorRates:
    """The rates the report would use: as ErrorRates.from_manifest reads a model's."""
    return ErrorRates.from_manifest(fold)


def _owner_row(owner: str, part: pd.DataFrame, fold: dict, p_by_key: dict) -> dict:
    p = part["dedup_key"].map(p_by_key).to_numpy(dtype=float)
    n, k = int(np.isfinite(p).sum()), int((p >= fold["threshold"]).sum())
    rates = fold_rates(fold)
    counted = k if rates.threshold is None else int((p >= rates.threshold).sum())
    est = corrected_prevalence(
        counted, n, rates.sensitivity, rates.specificity, rates.n_pos, rates.n_neg
    )
    truth = float((part["label"] == "spam").mean())
    lo, hi = wilson_interval(k, n)
    return {
        "owner": owner,
        "n": n,
        "flagged_share": k / n,
        "flagged_lo": lo,
        "flagged_hi": hi,
        "corrected": est.estimate,
        "corrected_lo": est.lo,
        "corrected_hi": est.hi,
        "truth": truth,
        "error": est.estimate - truth,
        "covered": bool(est.lo <= truth <= est.hi),
    }


def verdict(table: pd.DataFrame, max_error: float = 0.05, min_coverage: float = 0.90) -> str:
    within = (table["error"].abs() <= max_error).mean()
    coverage = table["covered"].mean()
    ok = within == 1.0 and coverage >= min_coverage
    return (
        f"{len(table)} owners; |error| <= {max_error:.0%} for {within:.0%} of them, "
        f"95% intervals cover the truth for {coverage:.0%} -> {'PASS' if ok else 'FAIL'}"
    )
