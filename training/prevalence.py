"""Does the report's corrected prevalence recover the true spam share per creator?

The check runs out of fold: every ScamSpot owner is scored by a protocol model that never
saw that owner (the `scamspot_grouped` folds of training.protocols). Its comments are counted
at p_spam >= 0.5 and corrected with sensitivity and specificity pooled over the other folds'
out-of-fold predictions: how the shipped model's manifest gets its "prevalence" rates
(scripts/evaluate_protocols.py --card), minus the owners being estimated.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.aggregate import group_stats
from pipeline.shares import ErrorRates, corrected_arrays, wilson_interval
from training.calibrate import between_group_sd, error_rates
from training.fit import PREVALENCE_THRESHOLD
from training.protocols_report import MODEL_NAMES


def load_folds(cache_dir: Path) -> list[dict]:
    """The cached fold results of one model on the owner-grouped ScamSpot protocol."""
    folds = [json.loads(p.read_text()) for p in sorted(cache_dir.glob("*.json"))]
    if not folds or any("keys" not in f for f in folds):
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
        out.append(_owner_row(owner, part, fold, p_by_key, folds))
    return pd.DataFrame(out)


def pooled_rates(folds: list[dict], threshold: float = PREVALENCE_THRESHOLD) -> dict:
    """Sensitivity and specificity at `threshold` over the test predictions of `folds`
    together: every comment scored by a model that never saw its creator or video."""
    p, y = _stacked(folds, "p", "y")
    return error_rates(p.astype(float), y.astype(int), threshold)


def pooled_spread(folds: list[dict], threshold: float = PREVALENCE_THRESHOLD) -> dict:
    """Between-group spread of those rates (per video / post owner, training.calibrate)."""
    p, y, groups = _stacked(folds, "p", "y", "groups")
    return between_group_sd(p.astype(float), y.astype(int), groups, threshold)


def prevalence_fields(results: dict[str, dict[str, list]], model: str = "lora") -> dict:
    """The manifest's "prevalence" entry: error rates for the report's correction from the
    out-of-fold predictions of `model`'s recipe on unseen videos and post owners, at
    p_spam >= PREVALENCE_THRESHOLD, with their between-group spread."""
    folds = [f for p in ("uci_lovo", "scamspot_grouped") for f in results[p][model]]
    return {
        "threshold": PREVALENCE_THRESHOLD,
        "error_rates": pooled_rates(folds),
        "between_groups": pooled_spread(folds),
        "source": "out-of-fold predictions of the uci_lovo and scamspot_grouped protocols"
        f" ({MODEL_NAMES.get(model, model)} recipe, docs/evaluation.md)",
    }


def _stacked(folds: list[dict], *keys: str) -> tuple[np.ndarray, ...]:
    """Each of `keys` (per-row lists of the fold results) over all `folds`, end to end."""
    return tuple(np.concatenate([np.asarray(f[k]) for f in folds]) for k in keys)


def fold_rates(folds: list[dict], held_out: dict) -> ErrorRates:
    """The rates for the owners of `held_out`: pooled over the other folds only, so the
    owners being estimated never inform the rates that correct them, with the between-owner
    spread of those folds' rates."""
    others = [f for f in folds if f is not held_out]
    sds = pooled_spread(others)
    return ErrorRates(
        **pooled_rates(others),
        threshold=PREVALENCE_THRESHOLD,
        sensitivity_sd=sds["sensitivity_sd"],
        specificity_sd=sds["specificity_sd"],
    )


def quantifiers(p: np.ndarray, others: list[dict]) -> dict[str, float]:
    """Two estimators of the quantification literature, weighed against the shipped
    correction with QuaPy's implementations: the probabilistic adjusted count (PACC; Bella
    et al., ICDM 2010), the mean p_spam corrected with the mean p_spam of spam and of genuine
    comments, and EM re-estimation of the prior (EMQ; Saerens, Latinne & Decaestecker,
    Neural Computation 2002), which moves calibrated posteriors to the group's own prior.
    Their rates and training prior come from `others`, like the shipped correction's."""
    # Imported here: QuaPy (the dev extra) is a diagnostic, not a dependency of the report.
    from quapy.functional import solve_adjustment_binary
    from quapy.method.aggregative import EMQ

    po, yo = _stacked(others, "p", "y")
    po, yo = po.astype(float), yo.astype(int)
    pacc = solve_adjustment_binary(p.mean(), po[yo == 1].mean(), po[yo == 0].mean())
    prior = yo.mean()
    emq, _ = EMQ.EM(np.array([1 - prior, prior]), np.column_stack([1 - p, p]))
    return {"pacc": float(pacc), "emq": float(emq[1])}


def _owner_row(owner: str, part: pd.DataFrame, fold: dict, p_by_key: dict, folds: list) -> dict:
    p = part["dedup_key"].map(p_by_key).to_numpy(dtype=float)
    p = p[np.isfinite(p)]
    n, k = len(p), int((p >= fold["threshold"]).sum())
    rates = fold_rates(folds, fold)
    counted = int((p >= rates.threshold).sum())
    est, lo_c, hi_c, _ = corrected_arrays([counted], [n], rates)
    no_spread = dataclasses.replace(rates, sensitivity_sd=0.0, specificity_sd=0.0)
    narrow = corrected_arrays([counted], [n], no_spread)
    truth = float((part["label"] == "spam").mean())
    lo, hi = wilson_interval(k, n)
    return {
        "owner": owner,
        "n": n,
        "flagged_share": k / n,
        "flagged_lo": lo,
        "flagged_hi": hi,
        "counted_share": counted / n,  # the uncorrected share at p_spam >= 0.5
        "mean_p_spam": float(p.mean()),
        **quantifiers(p, [f for f in folds if f is not fold]),
        "corrected": float(est[0]),
        "corrected_lo": float(lo_c[0]),
        "corrected_hi": float(hi_c[0]),
        "truth": truth,
        "error": float(est[0]) - truth,
        "covered": bool(lo_c[0] <= truth <= hi_c[0]),
        "covered_without_spread": bool(narrow[1][0] <= truth <= narrow[2][0]),
    }


def shipped_table(rows: pd.DataFrame, classifier: Any, min_labelled: int = 50) -> pd.DataFrame:
    """The issue's check taken literally: `classifier` scores every comment (labels unused),
    the report's own per-owner numbers (pipeline.aggregate.group_stats with the manifest's
    rates) set against the labelled spam share. Optimistic for a model trained on these
    owners: out_of_fold (owner_table) is the honest check."""
    heads = classifier.score_clean(rows["clean_text"].tolist())
    scored = rows.assign(p_spam=heads["p_spam"])
    scored["pred_label"] = np.where(scored["p_spam"] >= classifier.threshold, "spam", "genuine")
    rates = ErrorRates.from_manifest(classifier.manifest)
    stats = group_stats(scored, by="owner", rates=rates).set_index("post_owner")
    n = rows.groupby("post_owner").size()
    checked = stats.index.intersection(n[n >= min_labelled].index)
    columns = ["n", "flagged_share", "corrected_share", "corrected_lo", "corrected_hi"]
    table = stats.loc[checked, columns].rename(columns={"corrected_share": "corrected"})
    table = table.rename_axis("owner").reset_index()
    is_spam = rows["label"].eq("spam").groupby(rows["post_owner"]).mean()
    table["truth"] = is_spam.reindex(table["owner"]).to_numpy()
    table["error"] = table["corrected"] - table["truth"]
    table["covered"] = table["truth"].between(table["corrected_lo"], table["corrected_hi"])
    return table


def verdict(table: pd.DataFrame, max_error: float = 0.05, min_coverage: float = 0.90) -> str:
    within = (table["error"].abs() <= max_error).mean()
    coverage = table["covered"].mean()
    ok = within == 1.0 and coverage >= min_coverage
    return (
        f"{len(table)} owners; |error| <= {max_error:.0%} for {within:.0%} of them, "
        f"95% intervals cover the truth for {coverage:.0%} -> {'PASS' if ok else 'FAIL'}"
    )


def alternatives(table: pd.DataFrame, max_error: float = 0.05) -> str:
    """The same owners under the estimators the correction is weighed against."""
    lines = []
    for column, what in (("counted_share", "uncorrected share at p_spam >= 0.5"),
                         ("mean_p_spam", "mean calibrated p_spam"),
                         ("pacc", "probabilistic adjusted count (PACC)"),
                         ("emq", "EM re-estimated prior (EMQ)"),
                         ("corrected", "Rogan-Gladen corrected (shipped)")):  # fmt: skip
        error = (table[column] - table["truth"]).abs()
        lines.append(
            f"- {what}: within {max_error:.0%} for {(error <= max_error).sum()} of "
            f"{len(table)}, mean |error| {error.mean():.3f}, largest {error.max():.3f}"
        )
    if "covered_without_spread" in table:
        lines.append(
            f"- intervals without the between-owner spread cover the truth for "
            f"{table['covered_without_spread'].mean():.0%}"
        )
    return "\n".join(lines)
