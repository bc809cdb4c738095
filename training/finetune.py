"""What a fine-tune trains, validates and is judged on, and the promotion check.

`finetune_sets` splits the new samples three ways and shares out the parent's held-out rows
(`training.lineage`), leaves every held-out text and group out of training, and mixes in a
replay sample of the lineage's data; `promotion_check` scores old and new model on the gate
and refuses a new one more than MAX_F1_DROP worse unless forced.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.artifact import sha256_file
from pipeline.io import RejectSink
from pipeline.model import Classifier
from training.config import TrainConfig
from training.data import exclude_keys, load_examples
from training.evaluate import evaluate_frame
from training.fit import Fitted
from training.lineage import Parent, child_splits

log = logging.getLogger(__name__)
MAX_F1_DROP = 0.01
# Below this many gate rows one flipped prediction moves F1 by a point or more: say so.
MIN_GATE_ROWS = 100
GATE_PARTS = ("new samples", "parent held-out", "reference")
INHERITED = "the parent model's: "


class PromotionRefused(RuntimeError):
    """A fine-tuned model scored worse than the model it started from."""


def finetune_sets(
    cfg: TrainConfig,
    examples: pd.DataFrame,
    parent: Parent,
    reference_paths: Any,
    rejects: RejectSink | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(train, validation, gate, manifest records) of a fine-tune. Nothing of validation or
    the gate trains the child, not even another comment of the same post."""
    fraction, seed = cfg.data.val_fraction, cfg.train.seed
    train, val, gate, random = child_splits(examples, parent.splits, fraction, seed)
    reference, files = _reference(reference_paths, cfg, rejects)
    gate, composition = gate_set(gate, val, reference, parent)
    held = pd.concat([val, gate], ignore_index=True)
    unsplit = random | parent.splits.unsplit
    train = exclude_held_out(train, held, "training", unsplit)
    train, replay = add_replay(train, held, parent, cfg, unsplit)
    return train, val, gate, {"replay": replay, "gate": composition, "reference_data": files}


def gate_set(
    gate: pd.DataFrame, val: pd.DataFrame, reference: pd.DataFrame | None, parent: Parent
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The promotion gate's rows and where they come from. Rows the child early-stopped or
    calibrated on would favour it, rows the parent trained on would favour the parent."""
    if reference is not None:
        reference = exclude_keys(reference, gate).assign(gate_part="reference")
        gate = pd.concat([gate, reference], ignore_index=True)
    gate = exclude_keys(gate, val)
    unseen = exclude_keys(gate, parent.trained())
    parts = unseen["gate_part"].value_counts().to_dict()
    composition = {part: int(parts.get(part, 0)) for part in GATE_PARTS}
    return unseen, {**composition, "left_out_parent_trained": len(gate) - len(unseen)}


def _reference(
    reference_paths: Any, cfg: TrainConfig, rejects: RejectSink | None = None
) -> tuple[pd.DataFrame | None, list]:
    """The --reference examples and their file records (path, sha256, rows) for the manifest;
    their rejected records go to `rejects` with the training data's."""
    if not reference_paths:
        return None, []
    mapping, group_by = cfg.data.mapping, cfg.data.group_by
    frame, report = load_examples(list(reference_paths), mapping, group_by, rejects)
    return frame, report["files"]


def exclude_held_out(
    frame: pd.DataFrame, held_out: pd.DataFrame, what: str, unsplit: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """`frame` without the texts and the groups (posts, owners, videos) of `held_out`: a model
    trained on comments of a held-out post is no longer measured on unseen posts. `unsplit`
    groups were split at random (`unsplit_groups`), so only their held-out texts are left out."""
    kept = exclude_keys(frame, held_out)
    groups = set(held_out["group"]) - unsplit
    kept = kept[~kept["group"].isin(groups)].reset_index(drop=True)
    if len(kept) < len(frame):  # the user's own rows say so; replay's are routine
        level = logging.INFO if what == "replay" else logging.WARNING
        log.log(level, "%d %s rows share a text or a group with the held-out data: left out",
                len(frame) - len(kept), what)  # fmt: skip
    return kept


def held_out_with_reference(
    val: pd.DataFrame, reference_paths: Any, cfg: TrainConfig, rejects: RejectSink | None = None
) -> tuple[pd.DataFrame, list]:
    """Validation split plus reference sets (data no model in this run trains on), and the
    reference files' records."""
    reference, files = _reference(reference_paths, cfg, rejects)
    if reference is None:
        return val, files
    return pd.concat([val, exclude_keys(reference, val)], ignore_index=True), files


def add_replay(
    train: pd.DataFrame,
    held_out: pd.DataFrame,
    parent: Parent,
    cfg: TrainConfig,
    unsplit: frozenset[str] = frozenset(),
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mix a sample of the old model's training data into `train`."""
    n_wanted = round(cfg.data.replay_fraction * len(train))
    if n_wanted == 0:
        return train, {"rows": 0, "reason": "data.replay_fraction = 0"}
    old = exclude_keys(exclude_held_out(parent.examples, held_out, "replay", unsplit), train)
    sample = old.sample(n=min(n_wanted, len(old)), random_state=cfg.train.seed)
    files = [str(p) for p in parent.files]
    info = {"rows": len(sample), "from": files, "spam": int(sample["y"].sum())}
    return pd.concat([train, sample], ignore_index=True), info


def promotion_check(
    init_from: Path,
    fitted: Fitted,
    gate: pd.DataFrame,
    force: bool,
    composition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Old and new model on the gate's rows (`gate_set`); refuse a worse new model."""
    # "forced": whether --force overrode a refusal, not merely whether it was passed.
    result = {"held_out_rows": len(gate), "composition": composition or {},
              "max_drop": MAX_F1_DROP, "forced": False}  # fmt: skip
    if len(gate) == 0 or gate["y"].nunique() < 2:
        return _no_gate(result, force)
    old = evaluate_frame(Classifier.from_pretrained(init_from), gate)
    new = evaluate_frame(fitted.classifier(), gate)
    result.update(old_f1=round(old["f1"], 4), new_f1=round(new["f1"], 4))
    if len(gate) < MIN_GATE_ROWS:
        result["warning"] = f"only {len(gate)} gate rows: the F1 comparison is noisy"
        log.warning("promotion gate: %s (%s); add --reference files", result["warning"],
                    result["composition"])  # fmt: skip
    worse = new["f1"] < old["f1"] - MAX_F1_DROP
    result["forced"] = worse and force
    if worse and not force:
        raise PromotionRefused(
            f"fine-tuned model F1 {new['f1']:.4f} is more than {MAX_F1_DROP:.2f} below the old"
            f" model's {old['f1']:.4f} on {len(gate)} held-out examples; nothing written."
            " Add more or cleaner samples, lower train.lr, or pass force=True (--force)"
        )
    return result


def _no_gate(result: dict[str, Any], force: bool) -> dict[str, Any]:
    """No comparison is possible: refuse unless forced, and say so in the manifest."""
    why = (f"the promotion gate holds {result['held_out_rows']} rows, not both labels"
           f" ({result['composition']}), so old and new model cannot be compared")  # fmt: skip
    if not force:
        raise PromotionRefused(
            f"{why}; nothing written. Add --reference files or samples from more posts,"
            " or pass force=True (--force)"
        )
    log.warning("%s; promoted because forced", why)
    return {**result, "warning": why, "forced": True}


def inherited_rule(parent: Parent | None) -> dict[str, Any] | None:
    """The parent's decision threshold, kept when it was chosen on its recipe's out-of-fold
    predictions (the shipped models): one validation split of a few creators put the same
    rule's threshold anywhere between 0.15 and 0.94 (docs/model.md), and old and new model
    are then compared at one operating point. The rates are measured at it on validation."""
    rule = (parent.manifest.get("threshold_rule") or {}) if parent is not None else {}
    if "out-of-fold" not in str(rule.get("rule", "")):
        return None
    return {
        **rule,
        "threshold": float(parent.manifest["threshold"]),
        "rule": INHERITED + str(rule["rule"]).removeprefix(INHERITED),
        "fitted_on": "validation split",
        "inherited_from": str(parent.path),
    }


def inherit_spread(manifest: dict[str, Any], parent: Parent) -> None:
    """Keep the parent's between-creator spread of its error rates: a fine-tune measures its
    rates on one validation split, which cannot show how they vary from creator to creator,
    and leaving the spread out narrows the report's intervals below their coverage."""
    spread = (parent.manifest.get("prevalence") or {}).get("between_groups")
    if spread and isinstance(manifest.get("prevalence"), dict):
        manifest["prevalence"]["between_groups"] = {**spread, "inherited_from": str(parent.path)}


def describe_parent(parent: Parent) -> dict[str, Any]:
    return {
        "path": str(parent.path),
        "manifest_sha256": sha256_file(parent.path / "manifest.json"),
        "created_at": parent.manifest.get("created_at"),
    }
