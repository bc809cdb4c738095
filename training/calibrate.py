"""Post-training calibration: temperature, decision threshold and error rates.

All are fitted on held-out (validation) predictions, never on training data, so the
manifest's error rates are honest inputs to the report's Rogan-Gladen correction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
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
