"""Post-training calibration: temperature, decision threshold and error rates.

All are fitted on held-out (validation) predictions, never on training data, so the
manifest's error rates are honest inputs to the report's Rogan-Gladen correction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from pipeline.model import calibrated


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising validation negative log-likelihood (Guo et al. 2017)."""

    def nll(log_t: float) -> float:
        p = np.clip(calibrated(logits, float(np.exp(log_t))), 1e-12, 1 - 1e-12)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))

    # Bounded search in log space: T in [0.05, 20] covers any sane over/under-confidence.
    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return round(float(np.exp(result.x)), 6)


def choose_threshold(p: np.ndarray, y: np.ndarray, target_precision: float) -> dict[str, Any]:
    """Lowest threshold whose precision (predict spam at p >= t) reaches the target.

    The lowest such threshold keeps the most recall. If no threshold reaches the target,
    fall back to the F1-maximising one and say so in the returned record."""
    candidates = np.unique(p)
    precisions = np.array([_precision(p >= t, y) for t in candidates])
    reaching = candidates[precisions >= target_precision]
    if len(reaching):
        t, rule = float(reaching.min()), f"lowest with validation precision >= {target_precision}"
    else:
        f1s = [_f1(p >= c, y) for c in candidates]
        t, rule = float(candidates[int(np.argmax(f1s))]), "max F1 (target precision not reached)"
    return {"threshold": t, "rule": rule, "target_precision": target_precision}


def error_rates(p: np.ndarray, y: np.ndarray, threshold: float) -> dict[str, Any]:
    """Sensitivity and specificity at `threshold`, with the counts they rest on."""
    pred = p >= threshold
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    tp, tn = int((pred & (y == 1)).sum()), int((~pred & (y == 0)).sum())
    return {
        "sensitivity": round(tp / n_pos, 6) if n_pos else None,
        "specificity": round(tn / n_neg, 6) if n_neg else None,
        "n_pos": n_pos,
        "n_neg": n_neg,
    }


def between_group_sd(
    p: np.ndarray, y: np.ndarray, groups: np.ndarray, threshold: float, min_n: int = 10
) -> dict[str, Any]:
    """How much sensitivity and specificity at `threshold` vary from group to group (video,
    post owner) beyond binomial noise: DerSimonian-Laird between-group standard deviations,
    over groups with >= `min_n` comments of the class. A new creator's comments are
    classified with that creator's rates, so the report's interval needs this spread."""
    pred, y, groups = np.asarray(p) >= threshold, np.asarray(y), np.asarray(groups)
    out: dict[str, Any] = {}
    for name, cls, hit in (("sensitivity", 1, pred), ("specificity", 0, ~pred)):
        rates = pd.Series(hit[y == cls]).groupby(groups[y == cls]).agg(["sum", "count"])
        rates = rates[rates["count"] >= min_n]
        out[f"{name}_sd"] = round(_dersimonian_laird(rates["sum"], rates["count"]), 6)
        out[f"{name}_groups"] = len(rates)
    out["min_n"] = min_n
    return out


def _dersimonian_laird(hits: pd.Series, n: pd.Series) -> float:
    """Between-group SD of a proportion (DerSimonian & Laird 1986); each group's binomial
    variance uses the pooled rate, so a group at 100% still carries weight."""
    if len(n) < 2:
        return 0.0
    pooled = hits.sum() / n.sum()
    rate, weight = hits / n, n / max(pooled * (1 - pooled), 1e-6)
    q = float((weight * (rate - pooled) ** 2).sum())
    scale = weight.sum() - (weight**2).sum() / weight.sum()
    return float(np.sqrt(max(0.0, (q - (len(n) - 1)) / scale)))


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """ECE over equal-width bins of the predicted spam probability."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(total)


def _precision(pred: np.ndarray, y: np.ndarray) -> float:
    return float((pred & (y == 1)).sum() / pred.sum()) if pred.any() else 0.0


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = (pred & (y == 1)).sum()
    return float(2 * tp / (pred.sum() + (y == 1).sum())) if tp else 0.0
