"""Interval maths for shares of comments: what the report's numbers per group rest on.

The Wilson interval for a flagged share; the Rogan & Gladen (1978) share corrected for the
classifier's sensitivity and specificity, with the Lang & Reiczigel (2014) interval, which
carries the uncertainty of those measured rates and their spread between creators.
docs/statistics.md has the formulas, worked values and sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

Z95 = 1.96
USELESS_TEST = "sensitivity + specificity - 1 <= 0: the classifier is no better than chance"


@dataclass(frozen=True)
class ErrorRates:
    """Classifier sensitivity/specificity measured on n_pos spam and n_neg genuine comments.

    `threshold`: the p_spam at or above which a comment is counted for the correction. The
    rates hold only for the counting rule they were measured with; None means the
    classifier's own labels (its decision threshold).

    `sensitivity_sd`, `specificity_sd`: how far one creator's rates spread around the pooled
    ones (between-creator standard deviation, 0 = every creator alike). The interval of a
    corrected share carries this spread too: a creator's comments are classified with that
    creator's error rates, not the average's (docs/statistics.md, section 4)."""

    sensitivity: float
    specificity: float
    n_pos: int
    n_neg: int
    threshold: float | None = None
    sensitivity_sd: float = 0.0
    specificity_sd: float = 0.0

    def __post_init__(self) -> None:
        for name in ("sensitivity", "specificity"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"error_rates.{name} must be in [0, 1], got {getattr(self, name)}")
        for name in ("sensitivity_sd", "specificity_sd"):
            if not 0.0 <= getattr(self, name) <= 0.5:
                raise ValueError(f"{name} must be in [0, 0.5], got {getattr(self, name)}")
        for name in ("n_pos", "n_neg"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"error_rates.{name} must be >= 1 evaluated comments")

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> ErrorRates:
        """The manifest's "prevalence" rates (measured at its counting threshold, with their
        optional "between_groups" spread) when it has them, else its "error_rates" at the
        decision threshold: {sensitivity, specificity, n_pos, n_neg}."""
        prevalence = manifest.get("prevalence")
        spread: Mapping[str, Any] = {}
        if isinstance(prevalence, Mapping):
            raw, threshold = prevalence.get("error_rates"), float(prevalence["threshold"])
            spread = prevalence.get("between_groups") or {}
        else:
            raw, threshold = manifest.get("error_rates"), None
        keys = ("sensitivity", "specificity", "n_pos", "n_neg")
        if not isinstance(raw, Mapping) or any(k not in raw for k in keys):
            raise ValueError(f'model manifest needs "error_rates" with keys {", ".join(keys)}')
        se, sp, n_pos, n_neg = (raw[k] for k in keys)
        sds = (float(spread.get(f"{k}_sd", 0.0)) for k in ("sensitivity", "specificity"))
        return cls(float(se), float(sp), int(n_pos), int(n_neg), threshold, *sds)


class Prevalence(NamedTuple):
    estimate: float
    lo: float
    hi: float
    note: str


def wilson_interval(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (nan, nan) when n == 0."""
    lo, hi = wilson_arrays(np.array([k]), np.array([n]), z)
    return float(lo[0]), float(hi[0])


def wilson_arrays(k: Any, n: Any, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson interval; NaN where n <= 0 or k is outside [0, n]."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    valid = (n > 0) & (k >= 0) & (k <= n)
    n_safe = np.where(valid, n, 1.0)
    p, z2 = np.where(valid, k, 0.0) / n_safe, z * z
    denom = 1 + z2 / n_safe
    centre = (p + z2 / (2 * n_safe)) / denom
    half = z * np.sqrt(p * (1 - p) / n_safe + z2 / (4 * n_safe**2)) / denom
    # Clip only float round-off: k = 0 gives centre == half exactly in real arithmetic.
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(valid, lo, np.nan), np.where(valid, hi, np.nan)


def corrected_prevalence(
    k: float,
    n: float,
    sensitivity: float,
    specificity: float,
    se_n: int,
    sp_n: int,
    z: float = Z95,
    sensitivity_sd: float = 0.0,
    specificity_sd: float = 0.0,
) -> Prevalence:
    """Rogan-Gladen corrected share with the Lang & Reiczigel (2014) interval, widened by
    the between-creator spread of the rates when one is given."""
    rates = ErrorRates(sensitivity, specificity, se_n, sp_n, None, sensitivity_sd, specificity_sd)
    est, lo, hi, note = corrected_arrays(np.array([k]), np.array([n]), rates, z)
    return Prevalence(float(est[0]), float(lo[0]), float(hi[0]), note)


def corrected_arrays(
    k: Any, n: Any, rates: ErrorRates, z: float = Z95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Vectorised corrected share: (estimate, lo, hi, note), all clipped to [0, 1]."""
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    se, sp, z2 = rates.sensitivity, rates.specificity, z * z
    # Lang & Reiczigel's adjusted estimates: add 1 success and 2 trials to Se and Sp,
    # z^2/2 successes and z^2 trials to the apparent share (Agresti & Coull 1998).
    n_se, n_sp = rates.n_pos + 2, rates.n_neg + 2
    se_a, sp_a = (rates.n_pos * se + 1) / n_se, (rates.n_neg * sp + 1) / n_sp
    if se + sp - 1 <= 0 or se_a + sp_a - 1 <= 0:
        nan = np.full(k.shape, np.nan)
        return nan, nan.copy(), nan.copy(), USELESS_TEST
    valid = (n > 0) & (k >= 0) & (k <= n)
    n_safe = np.where(valid, n, 1.0)
    estimate = (k / n_safe + sp - 1) / (se + sp - 1)
    ap_a, n_a = (k + z2 / 2) / (n_safe + z2), n_safe + z2
    j_a = se_a + sp_a - 1
    p_a = (ap_a + sp_a - 1) / j_a
    # A creator's own rates differ from the pooled ones by the between-creator spread as well
    # as by measurement error; both enter wherever the uncertainty of Se and Sp does.
    v_se = se_a * (1 - se_a) / n_se + rates.sensitivity_sd**2
    v_sp = sp_a * (1 - sp_a) / n_sp + rates.specificity_sd**2
    shift = 2 * z2 * (p_a * v_se - (1 - p_a) * v_sp)
    var = (ap_a * (1 - ap_a) / n_a + p_a**2 * v_se + (1 - p_a) ** 2 * v_sp) / j_a**2
    half = z * np.sqrt(var)
    lo, hi = np.clip(p_a + shift - half, 0, 1), np.clip(p_a + shift + half, 0, 1)
    return tuple(np.where(valid, np.clip(a, 0, 1), np.nan) for a in (estimate, lo, hi)) + ("",)
