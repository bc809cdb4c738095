"""Measure a two-head model's p_generic on held-out post owners: ROC-AUC against cross-post
repeats and the rule-made labels, and the top-scored comments for review.

    nice .venv/bin/python scripts/evaluate_generic.py --model models/default-2head
        [--datasets ../shared/datasets] [--top 100] [--out runs/generic_eval]

The held-out set is the model's own validation split, rebuilt from the manifest's training
config with the same code and seed: texts of post owners (ScamSpot) and videos (YouTube)
the model never trained on. Writes metrics.json and top.csv (the top-scored distinct texts of
the held-out ScamSpot owners, labelled or not, never seen in training) for manual review.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline.config import from_dict  # noqa: E402
from pipeline.model import Classifier  # noqa: E402
from training import generic_labels  # noqa: E402
from training.config import TrainConfig  # noqa: E402
from training.data import load_examples, split_grouped  # noqa: E402


def held_out(model: Classifier) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list]:
    """(train, validation, label table, data paths) exactly as the model was trained."""
    training = model.manifest["training"]
    cfg = from_dict(TrainConfig, training["config"])
    paths = [REPO / d["path"] for d in training["data"]]
    examples, _ = load_examples(paths, cfg.data.mapping, cfg.data.group_by)
    labels = generic_labels.build_labels(paths, generic_labels.load_rules(), cfg.data.mapping)
    examples = generic_labels.attach(examples, labels)
    train, val = split_grouped(examples, cfg.data.val_fraction, cfg.train.seed)
    return train, val, labels, paths


def auc(y: pd.Series, p: np.ndarray) -> dict:
    y = y.astype(int).to_numpy()
    value = roc_auc_score(y, p) if len(np.unique(y)) == 2 else float("nan")
    return {"roc_auc": round(float(value), 4), "n": len(y), "n_positive": int(y.sum())}


def metrics(val: pd.DataFrame, labels: pd.DataFrame, p: np.ndarray) -> dict:
    """AUC for the cross-post-repeat label (non-spam texts), also without emoji-only texts
    (the easy part), and for the rule-made labels."""
    table = labels.set_index("dedup_key")
    repeat = val["dedup_key"].map(table["repeat"]).fillna(False).astype(bool)
    emoji = val["dedup_key"].map(table["emoji_only"]).fillna(False).astype(bool)
    not_spam = (val["y"] == 0).to_numpy()
    labelled = val["g"].notna().to_numpy()
    return {
        "repeat_vs_rest (non-spam)": auc(repeat[not_spam], p[not_spam]),
        "repeat_vs_rest (non-spam, no emoji-only)": auc(
            repeat[not_spam & ~emoji], p[not_spam & ~emoji]
        ),
        "rule labels": auc(val["g"][labelled], p[labelled]),
    }


def top_texts(model, val, train, paths, k: int) -> pd.DataFrame:
    """The k highest-p_generic distinct texts of held-out ScamSpot owners (any label)."""
    rows = generic_labels.corpus_rows([p for p in paths if p.suffix == ".jsonl"])
    owners = set(val["post_owner"].dropna())
    rows = rows[rows["post_owner"].isin(owners) & ~rows["dedup_key"].isin(set(train["dedup_key"]))]
    rows = rows[rows["dedup_key"].str.strip() != ""].drop_duplicates("dedup_key")
    heads = model.score_clean(rows["clean_text"].tolist())
    rows = rows.assign(p_generic=heads["p_generic"], p_spam=heads["p_spam"])
    top = rows.sort_values("p_generic", ascending=False, kind="stable").head(k)
    return top[["post_owner", "text", "label", "p_generic", "p_spam"]].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "default")
    parser.add_argument("--top", type=int, default=100)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "generic_eval")
    args = parser.parse_args(argv)
    os.chdir(REPO)  # the manifest records data paths relative to the repository root
    model = Classifier.from_pretrained(args.model)
    train, val, labels, paths = held_out(model)
    p = model.score_clean(val["text"].tolist())["p_generic"]
    result = metrics(val, labels, p)
    result["held_out_owners"] = sorted(set(val["post_owner"].dropna()))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    top_texts(model, val, train, paths, args.top).to_csv(args.out / "top.csv", index=False)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
