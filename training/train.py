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
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.artifact import ModelError
from pipeline.config import to_dict
from pipeline.io import RejectSink
from pipeline.model import Classifier
from training import generic_labels
from training.config import TrainConfig
from training.data import load_examples, split_grouped, unsplit_groups
from training.export import export_artifact
from training.finetune import (
    describe_parent,
    exclude_held_out,
    finetune_sets,
    held_out_with_reference,
    inherit_spread,
    inherited_rule,
    promotion_check,
)
from training.fit import Fitted, fit
from training.lineage import (
    FINETUNE,
    SCRATCH,
    Parent,
    generation,
    inherited_config,
)

log = logging.getLogger(__name__)


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
    init_from = Path(init_from) if init_from is not None else None
    if init_from is not None and out_dir.resolve().is_relative_to(init_from.resolve()):
        # Files the parent's manifest does not list would fail its verification from then on.
        raise ModelError(
            f"{out_dir} is inside the model {init_from}; choose a directory outside it"
        )
    if init_from is not None:  # before minutes of reading and training
        cfg = inherited_config(cfg, init_from)
    paths = list(data_paths) or list(cfg.data.paths)
    # A fine-tune that replays may learn a spam wave from spam samples alone.
    one_label = init_from is not None and cfg.data.replay_fraction > 0
    examples, report = load_examples(
        paths, cfg.data.mapping, cfg.data.group_by, rejects, one_label=one_label
    )
    report["validation_split"] = split_kind(examples)
    extra: dict[str, Any] = {}
    if cfg.generic.enabled:
        examples, extra["generic_labels"] = generic_labels.for_training(examples, paths, cfg)
    parent = Parent.load(init_from) if init_from is not None else None
    if parent is None:
        train, val = split_grouped(examples, cfg.data.val_fraction, cfg.train.seed)
        held, extra["reference_data"] = held_out_with_reference(val, reference_paths, cfg, rejects)
        train = exclude_held_out(train, held, "training", unsplit_groups(examples))
        fitted = fit(cfg, train, val)
    else:
        train, val, gate, found = finetune_sets(cfg, examples, parent, reference_paths, rejects)
        report["validation_split"] = (
            f"train / validation / gate, {report['validation_split']}; plus halves of the"
            " parent's held-out rows in validation and the gate"
        )
        fitted = fit(cfg, train, val, init_from, inherited_rule(parent))
        extra.update(found, init_from=describe_parent(parent))
        extra["promotion"] = promotion_check(parent.path, fitted, gate, force, found["gate"])
    extra["lineage"] = _lineage(cfg, report, parent)
    manifest = _manifest(fitted, cfg, report, len(train), len(val), extra)
    if parent is not None:
        inherit_spread(manifest, parent)
    seconds = round(time.perf_counter() - started, 1)
    train_log = {"history": fitted.history, "data_report": report, "seconds": seconds}
    export_artifact(out_dir, fitted.network, fitted.tokenizer, manifest, train_log)
    log.info("trained %s in %.0f s", out_dir, seconds)
    return Classifier.from_pretrained(out_dir)


def split_kind(examples: pd.DataFrame) -> str:
    """How validation was split off, for the manifest: a plain text,label file has no group."""
    if examples["group"].nunique() < 2:
        return "random (no post, owner or video column): scores may be optimistic"
    return "grouped by " + ", ".join(sorted(set(examples["group"].str.split(":").str[0])))


def _lineage(cfg: TrainConfig, report: dict, parent: Parent | None) -> list[dict[str, Any]]:
    """The parent's lineage plus this model's own data: what a fine-tune of it replays."""
    data = cfg.data
    entry = {"data": report["files"], "seed": cfg.train.seed,
             "data_config": {"mapping": data.mapping, "group_by": data.group_by,
                             "val_fraction": data.val_fraction}}  # fmt: skip
    if parent is None:
        return [generation(entry, SCRATCH)]
    return [*parent.lineage, generation(entry, FINETUNE)]


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
