"""The out-of-fold errors of a protocol: which comments a recipe gets wrong, and how sure it was.

The F1 targets are missed by a few dozen comments per protocol; whether those are patterns a
model could learn or labels that contradict each other decides what to try next, and only a
person reading them can tell. This lists them from the protocol caches (training.protocols),
most confident first, so the reading starts where the model and the label disagree most.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

KINDS = {(0, True): "false positive", (1, False): "false negative"}


def fold_errors(folds: list[dict[str, Any]], threshold: float = 0.5) -> pd.DataFrame:
    """One row per misclassified test comment of `folds` at `threshold`: fold, group, kind,
    label, p_spam, the comment's dedup key and `miss` (|p_spam - label|); false positives
    first, each kind most confident first."""
    rows = [
        {"fold": f["fold"], "group": g.split(":")[-1], "y": y, "p_spam": p, "key": k}
        for f in folds
        for k, p, y, g in zip(f["keys"], f["p"], f["y"], f["groups"], strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["fold", "group", "y", "p_spam", "key"])
    flagged = frame["p_spam"] >= threshold
    frame["kind"] = [KINDS.get(pair) for pair in zip(frame["y"], flagged, strict=True)]
    errors = frame[frame["kind"].notna()].copy()
    # How far the score sits from the label: 1.0 is a certain, wrong model (or a wrong label).
    errors["miss"] = (errors["p_spam"] - errors["y"]).abs()
    errors = errors.sort_values(["kind", "miss"], ascending=False, kind="stable")
    return errors.reset_index(drop=True)


def error_counts(folds: list[dict[str, Any]], threshold: float = 0.5) -> pd.DataFrame:
    """Per group: test comments, false positives and false negatives at `threshold`."""
    errors = fold_errors(folds, threshold)
    sizes = pd.Series(
        [g.split(":")[-1] for f in folds for g in f["groups"]], name="comments"
    ).value_counts()
    counts = errors.groupby(["group", "kind"]).size().unstack(fill_value=0)
    table = counts.reindex(sizes.index, fill_value=0).reindex(columns=list(KINDS.values()))
    table = table.fillna(0).astype(int).assign(comments=sizes).sort_index()
    return table.rename_axis(index="group", columns=None)
