"""The two output heads of the network: p_spam (logit columns 0-1) and the optional p_generic
(columns 2-3, trained on rule-made labels, left out of the loss where a comment has none),
the class weights of their losses and the manifest entries that describe them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from pipeline.artifact import LABELS, ModelError, verify_dir
from pipeline.model import calibrated
from training.calibrate import fit_temperature

HEADS = {"p_spam": {"logits": [0, 1], "positive": 1, "label": "spam"}}
GENERIC_HEAD = {"logits": [2, 3], "positive": 1, "label": "generic"}
SPAM, GENERIC = slice(0, 2), slice(2, 4)  # logit columns of the two heads
IGNORE = -100  # a comment without a generic label: left out of the generic loss


def generic_targets(frame: pd.DataFrame) -> np.ndarray:
    """Generic labels as class indices, IGNORE where a comment has none (`g` NaN/absent)."""
    g = frame["g"] if "g" in frame else pd.Series(np.nan, index=frame.index)
    return np.where(g.isna(), IGNORE, g.fillna(0)).astype(np.int64)


def generic_loss(train: pd.DataFrame, mode: str) -> torch.nn.CrossEntropyLoss:
    labelled = pd.Series(generic_targets(train))
    if labelled.eq(IGNORE).all():
        raise ModelError("generic.enabled but no training example has a generic label")
    weight = class_weights(labelled[labelled != IGNORE], mode)
    return torch.nn.CrossEntropyLoss(weight=weight, ignore_index=IGNORE)


def manifest_heads(logits: np.ndarray, val: pd.DataFrame, init_from: Path | None) -> dict[str, Any]:
    """The manifest's heads: p_spam, and p_generic with its own temperature when the network
    has the generic columns (fitted on labelled validation texts; else the parent's head)."""
    if logits.shape[1] < 4:
        return dict(HEADS)
    g = generic_targets(val)
    known = g != IGNORE
    if len(np.unique(g[known])) == 2:
        head = {**GENERIC_HEAD, "temperature": fit_temperature(logits[known][:, GENERIC], g[known])}
    elif init_from is not None:  # fine-tuning without generic labels: the parent's calibration
        head = verify_dir(init_from)["heads"]["p_generic"]
    else:
        head = {**GENERIC_HEAD, "temperature": 1.0}
    return {**HEADS, "p_generic": head}


def generic_metrics(logits: np.ndarray, val: pd.DataFrame, head: dict) -> dict[str, Any]:
    """ROC-AUC and counts of p_generic on the labelled validation texts."""
    from sklearn.metrics import roc_auc_score

    g = generic_targets(val)
    known = g != IGNORE
    p = calibrated(logits[known][:, GENERIC], float(head["temperature"]))
    out: dict[str, Any] = {"n": int(known.sum()), "n_generic": int(g[known].sum())}
    if len(np.unique(g[known])) == 2:
        out["roc_auc"] = round(float(roc_auc_score(g[known], p)), 4)
    return out


def class_weights(y: pd.Series, mode: str) -> torch.Tensor | None:
    if mode == "none":
        return None
    counts = np.bincount(y.to_numpy(dtype=int), minlength=len(LABELS)).astype(float)
    return torch.tensor(counts.sum() / (len(LABELS) * np.maximum(counts, 1)), dtype=torch.float32)
