"""Train a model directory from labelled files, or fine-tune an existing model on new ones.

`run_training` reads and cleans the data, splits it by group, fits and calibrates
(`training.fit`) and publishes the artifact (`training.export`). With `init_from` it
continues from an existing model, replays a sample of that model's training data so old
spam patterns are not forgotten, and refuses to publish a model that is worse than the
old one on the same held-out data (unless forced).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.artifact import ModelError, sha256_file, verify_dir
from pipeline.config import to_dict
from pipeline.io import RejectSink
from pipeline.model import Classifier
from training import generic_labels
from training.config import TrainConfig
from training.data import TrainingDataError, exclude_keys, load_examples, split_grouped
from training.evaluate import evaluate_frame
from training.export import export_artifact
from training.fit import Fitted, fit

log = logging.getLogger(__name__)
MAX_F1_DROP = 0.01
INHERITED = "the parent model's: "


class PromotionRefused(RuntimeError):
    """A fine-tuned model scored worse than the model it started from."""


def run_training(
    cfg: TrainConfig,
    data_paths: list[str | Path] | tuple = (),
    out_dir: str | Path = "models/new",
    init_from: str | Path | None = None,
    force: bool = False,
    reference_paths: list[str | Path] | tuple = (),
    rejects: RejectSink | None = None,
) -> Classifier:
    """Train (or with `init_from`, fine-tune) and publish a model dir at `out_dir`; records of
    the data files that no reader could use go to `rejects` where one is given."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    if out_dir.exists():
        raise ModelError(f"{out_dir} already exists; choose a new directory (never overwritten)")
    paths = list(data_paths) or list(cfg.data.paths)
    examples, report = load_examples(paths, cfg.data.mapping, cfg.data.group_by, rejects)
    extra: dict[str, Any] = {}
    if cfg.generic.enabled:
        examples, extra["generic_labels"] = generic_labels.for_training(examples, paths, cfg)
    train, val = split_grouped(examples, cfg.data.val_fraction, cfg.train.seed)
    init_from = Path(init_from) if init_from is not None else None
    parent = Parent.load(init_from) if init_from is not None else None
    if parent is not None:  # old spam must stay caught: judge on the old held-out data too
        val = pd.concat([val, exclude_keys(parent.validation(), val)], ignore_index=True)
    held_out = _held_out(val, reference_paths, cfg)
    train = exclude_held_out(train, held_out, "training")
    if parent is not None:
        train, extra["replay"] = add_replay(train, held_out, parent, cfg)
    fitted = fit(cfg, train, val, init_from, _inherited_rule(parent))
    if parent is not None:
        # Texts the parent trained on would judge it on its own training data.
        gate = exclude_keys(held_out, parent.trained())
        extra["promotion"] = promotion_check(parent.path, fitted, gate, force)
        extra["init_from"] = _describe_parent(parent)
    manifest = _manifest(fitted, cfg, report, len(train), len(val), extra)
    if parent is not None:
        _inherit_spread(manifest, parent)
    seconds = round(time.perf_counter() - started, 1)
    train_log = {"history": fitted.history, "data_report": report, "seconds": seconds}
    export_artifact(out_dir, fitted.network, fitted.tokenizer, manifest, train_log)
    log.info("trained %s in %.0f s", out_dir, seconds)
    return Classifier.from_pretrained(out_dir)


def finetune(
    cfg: TrainConfig,
    init_from: str | Path,
    data_paths: list[str | Path],
    out_dir: str | Path,
    reference_paths: list[str | Path] | tuple = (),
    force: bool = False,
) -> Classifier:
    """Continue training `init_from` on new labelled samples (see `run_training`)."""
    return run_training(cfg, data_paths, out_dir, init_from, force, reference_paths)


def _manifest(
    fitted: Fitted, cfg: TrainConfig, report: dict, n_train: int, n_val: int, extra: dict
) -> dict[str, Any]:
    manifest = {**fitted.manifest, **training_fields(cfg, report, n_train, n_val, extra)}
    if "promotion" in extra:
        manifest["metrics"] = {**manifest["metrics"], "promotion": extra["promotion"]}
    return manifest


def training_fields(
    cfg: TrainConfig, report: dict, n_train: int, n_val: int, extra: dict | None = None
) -> dict[str, Any]:
    """The manifest's record of how a model was made: data files, config, seed, counts."""
    from pipeline.clean import CLEANING_VERSION

    training = {
        "data": report["files"],
        "config": to_dict(cfg),
        "seed": cfg.train.seed,
        "n_train": n_train,
        "n_validation": n_val,
        "data_report": {k: v for k, v in report.items() if k != "files"},
    }
    training.update({k: v for k, v in (extra or {}).items() if k != "promotion"})
    return {"cleaning_version": CLEANING_VERSION, "training": training}


def exclude_held_out(frame: pd.DataFrame, held_out: pd.DataFrame, what: str) -> pd.DataFrame:
    """`frame` without the texts and the groups (posts, owners, videos) of `held_out`: a model
    trained on comments of a held-out post is no longer measured on unseen posts."""
    kept = exclude_keys(frame, held_out)
    kept = kept[~kept["group"].isin(set(held_out["group"]))].reset_index(drop=True)
    if len(kept) < len(frame):
        log.info("%d %s rows share a text or a group with the held-out data: left out",
                 len(frame) - len(kept), what)  # fmt: skip
    return kept


def _held_out(val: pd.DataFrame, reference_paths: Any, cfg: TrainConfig) -> pd.DataFrame:
    """Validation split plus reference sets: data no model in this run trains on."""
    if not reference_paths:
        return val
    reference, _ = load_examples(list(reference_paths), cfg.data.mapping, cfg.data.group_by)
    reference = exclude_keys(reference, val)
    return pd.concat([val, reference], ignore_index=True)


@dataclass(frozen=True)
class Parent:
    """The model being fine-tuned and its training examples, read once from its manifest."""

    path: Path
    manifest: dict[str, Any]
    examples: pd.DataFrame
    files: list[Path]
    data_cfg: dict[str, Any]
    seed: int

    @classmethod
    def load(cls, init_from: Path) -> Parent:
        manifest = verify_dir(init_from)
        training = manifest["training"]
        files = [_find_old_file(entry, init_from) for entry in training["data"]]
        data_cfg = training.get("config", {}).get("data", {})
        mapping, group_by = data_cfg.get("mapping"), data_cfg.get("group_by", "auto")
        examples, _ = load_examples(files, mapping, group_by)
        return cls(init_from, manifest, examples, files, data_cfg, training.get("seed", 13))

    def validation(self) -> pd.DataFrame:
        """The split the parent was calibrated and measured on, rebuilt with the same code
        and seed: examples it never trained on."""
        return self._split[1]

    def trained(self) -> pd.DataFrame:
        """The examples the parent trained on (its split's training side)."""
        return self._split[0]

    @cached_property  # a fine-tune asks for both sides; the split is made once
    def _split(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        return split_grouped(self.examples, self.data_cfg.get("val_fraction", 0.2), self.seed)


def add_replay(
    train: pd.DataFrame, held_out: pd.DataFrame, parent: Parent, cfg: TrainConfig
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Mix a sample of the old model's training data into `train`."""
    n_wanted = round(cfg.data.replay_fraction * len(train))
    if n_wanted == 0:
        return train, {"rows": 0, "reason": "data.replay_fraction = 0"}
    old = exclude_keys(exclude_held_out(parent.examples, held_out, "replay"), train)
    sample = old.sample(n=min(n_wanted, len(old)), random_state=cfg.train.seed)
    files = [str(p) for p in parent.files]
    info = {"rows": len(sample), "from": files, "spam": int(sample["y"].sum())}
    return pd.concat([train, sample], ignore_index=True), info


def _find_old_file(entry: dict[str, Any], init_from: Path) -> Path:
    """An old training file: as recorded (relative to cwd) or relative to the repo root."""
    recorded = Path(entry["path"])
    for candidate in (recorded, init_from.resolve().parents[1] / recorded):
        if candidate.is_file():
            if sha256_file(candidate) != entry["sha256"]:
                log.warning("replay file %s changed since the model was trained", candidate)
            return candidate
    raise TrainingDataError(
        f"replay data {recorded} (training data of {init_from}) not found; make it available"
        " at that path, or set --data.replay_fraction=0 to fine-tune without replay"
    )


def promotion_check(
    init_from: Path, fitted: Fitted, held_out: pd.DataFrame, force: bool
) -> dict[str, Any]:
    """Old and new model on the same held-out data; refuse a worse new model."""
    old = evaluate_frame(Classifier.from_pretrained(init_from), held_out)
    new = evaluate_frame(fitted.classifier(), held_out)
    result = {
        "held_out_rows": len(held_out),
        "old_f1": round(old["f1"], 4),
        "new_f1": round(new["f1"], 4),
        "max_drop": MAX_F1_DROP,
        "forced": force,
    }
    if new["f1"] < old["f1"] - MAX_F1_DROP and not force:
        raise PromotionRefused(
            f"fine-tuned model F1 {new['f1']:.4f} is more than {MAX_F1_DROP:.2f} below the old"
            f" model's {old['f1']:.4f} on {len(held_out)} held-out examples; nothing written."
            " Add more or cleaner samples, lower train.lr, or pass force=True (--force)"
        )
    return result


def _inherited_rule(parent: Parent | None) -> dict[str, Any] | None:
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


def _inherit_spread(manifest: dict[str, Any], parent: Parent) -> None:
    """Keep the parent's between-creator spread of its error rates: a fine-tune measures its
    rates on one validation split, which cannot show how they vary from creator to creator,
    and leaving the spread out narrows the report's intervals below their coverage."""
    spread = (parent.manifest.get("prevalence") or {}).get("between_groups")
    if spread and isinstance(manifest.get("prevalence"), dict):
        manifest["prevalence"]["between_groups"] = {**spread, "inherited_from": str(parent.path)}


def _describe_parent(parent: Parent) -> dict[str, Any]:
    return {
        "path": str(parent.path),
        "manifest_sha256": sha256_file(parent.path / "manifest.json"),
        "created_at": parent.manifest.get("created_at"),
    }
