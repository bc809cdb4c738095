"""Evaluate a classifier on labelled files: threshold metrics, ranking metrics, calibration.

Works with anything that has `predict_proba(raw_texts)` and a `threshold` (the transformer
`Classifier` and the TF-IDF `Baseline`), so protocols compare them on equal terms.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
    roc_auc_score,
)

from pipeline.io import RejectSink
from training.calibrate import expected_calibration_error


class Scorer(Protocol):
    threshold: float

    def predict_proba(self, texts: list[str]) -> np.ndarray: ...


def binary_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """Metrics of spam-probabilities `p` against 0/1 labels `y`, predicting at `threshold`."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel().tolist()
    return {
        "n": len(y),
        "n_spam": int(y.sum()),
        "threshold": float(threshold),
        "precision": float(precision_score(y, pred, zero_division=0)),
        "recall": float(recall_score(y, pred, zero_division=0)),
        "f1": float(f1_score(y, pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y, pred)),
        "roc_auc": float(roc_auc_score(y, p)) if both else None,
        "pr_auc": float(average_precision_score(y, p)) if both else None,
        "ece": expected_calibration_error(p, y),
        "confusion": {"tn": tn, "fp": fp, "fn": fn, "tp": tp},
    }


def group_metrics(frame: pd.DataFrame, p: np.ndarray, threshold: float) -> dict[str, Any]:
    """Per group (video / post owner): size, spam share, and how many errors fall there."""
    out = {}
    pred = p >= threshold
    for group, idx in frame.groupby("group", sort=True).indices.items():
        y, g = frame["y"].to_numpy()[idx], pred[idx]
        out[str(group)] = {
            "n": len(idx),
            "n_spam": int(y.sum()),
            "flagged": int(g.sum()),
            # No spam and none flagged: F1 is 0/0, undefined; the group is all right (accuracy).
            "f1": float(f1_score(y, g)) if y.any() or g.any() else None,
            "accuracy": float((g == y).mean()),
        }
    return out


def evaluate_frame(model: Scorer, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics of `model` on examples from `training.data` (raw text is re-cleaned)."""
    p = model.predict_proba(list(frame["raw_text"]))[:, 1]
    result = binary_metrics(frame["y"].to_numpy(), p, model.threshold)
    result["groups"] = group_metrics(frame, p, model.threshold)
    result["reliability"] = reliability_table(frame["y"].to_numpy(), p)
    return result


def evaluate(
    model_or_dir: Scorer | str | Path,
    data_paths: list[str | Path],
    mapping: dict[str, str] | None = None,
    out: str | Path | None = None,
    rejects: RejectSink | None = None,
) -> dict[str, Any]:
    """Evaluate a model (or model dir) on labelled files; with `out` (a .json path) also
    write the result there and a reliability plot next to it (same stem, .svg). Records no
    reader could use go to `rejects` where one is given."""
    from pipeline.model import Classifier
    from training.data import load_examples

    model = model_or_dir
    if isinstance(model_or_dir, str | Path):
        model = Classifier.from_pretrained(model_or_dir)
    frame, report = load_examples(data_paths, mapping, rejects=rejects)
    result = evaluate_frame(model, frame)
    result["data"] = {"paths": [str(p) for p in data_paths], **report}
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        reliability_svg(result["reliability"], out.with_suffix(".svg"))
    return result


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict[str, Any]]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = idx == b
        if mask.any():
            rows.append(
                {
                    "bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}",
                    "n": int(mask.sum()),
                    "mean_p": float(p[mask].mean()),
                    "spam_share": float(y[mask].mean()),
                }
            )
    return rows


def reliability_svg(table: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    ax.plot([r["mean_p"] for r in table], [r["spam_share"] for r in table], "o-", label="model")
    ax.set(xlabel="mean predicted p_spam", ylabel="observed spam share", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)
    return path


def to_markdown(result: dict[str, Any]) -> str:
    """A short human-readable summary of an `evaluate` result."""
    c = result["confusion"]
    lines = [
        "| metric | value |",
        "|---|---|",
        *(
            f"| {k} | {_fmt(result[k])} |"
            for k in ("n", "n_spam", "threshold", "precision", "recall", "f1", "mcc")
        ),
        *(f"| {k} | {_fmt(result[k])} |" for k in ("roc_auc", "pr_auc", "ece")),
        "",
        f"Confusion: TN {c['tn']}, FP {c['fp']}, FN {c['fn']}, TP {c['tp']}",
    ]
    if result.get("groups"):
        lines += ["", "| group | n | spam | flagged | F1 | accuracy |", "|---|---|---|---|---|---|"]
        for name, g in result["groups"].items():
            lines.append(
                f"| {_cell(name)} | {g['n']} | {g['n_spam']} | {g['flagged']} | {_fmt(g['f1'], 3)}"
                f" | {g['accuracy']:.3f} |"
            )
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    # Group names come from the data (post owners): keep them from breaking the table, and
    # control characters (an escape sequence that retitles or clears a terminal) from acting.
    text = text.replace("|", "\\|")
    return "".join(c if c.isprintable() else (" " if c in "\r\n" else repr(c)[1:-1]) for c in text)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def revalidated(model_dir: str | Path, threshold: float) -> dict[str, Any]:
    """The model's manifest `metrics` with `validation` measured again at `threshold` on its own
    validation split (rebuilt from its manifest), so that a card whose threshold was changed
    after training never reports F1 at a threshold the model no longer decides at."""
    from pipeline.model import Classifier
    from training.lineage import Parent

    parent = Parent.load(Path(model_dir))
    val = parent.validation()
    p = Classifier.from_pretrained(model_dir).predict_proba(list(val["raw_text"]))[:, 1]
    return {**parent.manifest["metrics"], "validation": binary_metrics(val["y"], p, threshold)}
