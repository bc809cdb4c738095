"""The model a fine-tune continues from, and the lineage of data behind it.

Each model's manifest records `training.lineage`: one entry per generation (the model trained
from scratch, then each fine-tune) with its data files, their sha256, its data settings and
seed. `Parent.load` reads every generation's files again and rebuilds their splits with the
same code, so a grandchild still replays the original data, and its promotion gate still sees
the original validation rows, not only its parent's new samples.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.artifact import PACKAGED_BASES, sha256_file, verify_dir
from pipeline.config import ConfigError
from training.config import ModelSection, TrainConfig, explicit_keys
from training.data import (
    TrainingDataError,
    exclude_keys,
    halve,
    load_examples,
    split_grouped,
    split_three,
    unsplit_groups,
)

log = logging.getLogger(__name__)
SCRATCH, FINETUNE = "train/validation", "train/validation/gate"
# The settings a fine-tune takes from its parent's adapter; model.max_length it may change.
FIXED = ("base", "kind", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "layers")


@dataclass(frozen=True)
class Splits:
    """A lineage's examples by role, rebuilt generation by generation."""

    trained: pd.DataFrame  # on the training side of some generation's split
    validation: pd.DataFrame  # the last model early-stopped, calibrated and was measured here
    held_out: pd.DataFrame  # no model of the lineage trained on these
    unsplit: frozenset[str]  # groups some generation split at random (data.unsplit_groups)


def child_splits(
    examples: pd.DataFrame, parent: Splits, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, frozenset[str]]:
    """(train, validation, gate, groups split at random) of a fine-tune. The parent's held-out
    rows are shared out: half for early stopping and calibration (old spam must stay caught),
    half for the gate. New validation rows the parent trained on are left out: the child would
    early-stop and calibrate on texts its starting point already fits."""
    train, val, gate = split_three(examples, fraction, seed)
    # With one group left after the gate, validation was cut through it at random.
    rest = pd.concat([train, val])
    unsplit = unsplit_groups(examples) | (unsplit_groups(rest) if len(val) else frozenset())
    old = exclude_keys(parent.held_out, pd.concat([val, gate]))
    old_val, old_gate = halve(old, seed)
    gate = pd.concat([gate.assign(gate_part="new samples"),
                      old_gate.assign(gate_part="parent held-out")], ignore_index=True)  # fmt: skip
    return train, _unseen_validation(val, old_val, parent.trained), gate, unsplit


def _unseen_validation(new: pd.DataFrame, old: pd.DataFrame, trained: pd.DataFrame) -> pd.DataFrame:
    """New validation rows the parent did not train on, plus the parent's share; all of them,
    with a warning, when that would leave none (new samples that are the parent's own data)."""
    unseen = exclude_keys(new, trained)
    kept = pd.concat([unseen, old], ignore_index=True)
    if len(unseen) < len(new):
        what = "left out" if len(kept) else "kept: nothing else is left to validate on"
        log.warning("%d new validation rows are texts the parent trained on: %s",
                    len(new) - len(unseen), what)  # fmt: skip
    return kept if len(kept) else new.reset_index(drop=True)  # `old` is empty then too


def generation(entry: dict[str, Any], split: str = FINETUNE) -> dict[str, Any]:
    """One lineage entry: how this generation's own data was read and split."""
    return {"data": entry["data"], "data_config": entry["data_config"],
            "seed": entry["seed"], "split": split}  # fmt: skip


def lineage_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The manifest's lineage; a model trained before lineages were recorded is one
    generation of its own data (its split was then always train/validation)."""
    training = manifest["training"]
    if "lineage" in training:
        return training["lineage"]
    data_cfg = training.get("config", {}).get("data", {})
    entry = {"data": training["data"], "data_config": data_cfg, "seed": training.get("seed", 13)}
    return [generation(entry, SCRATCH)]


@dataclass(frozen=True)
class Parent:
    """The model being fine-tuned and its lineage's examples, read once from its manifest."""

    path: Path
    manifest: dict[str, Any]
    examples: pd.DataFrame  # every generation's examples: the replay pool
    files: list[Path]
    lineage: list[dict[str, Any]]
    splits: Splits

    @classmethod
    def load(cls, init_from: Path) -> Parent:
        manifest = verify_dir(init_from)
        lineage = lineage_of(manifest)
        frames, files = [], []
        for entry in lineage:
            found = [_find_old_file(record, init_from) for record in entry["data"]]
            config = entry.get("data_config", {})
            frames.append(load_examples(found, config.get("mapping"),
                                        config.get("group_by", "auto"))[0])  # fmt: skip
            files += found
        examples = pd.concat(frames, ignore_index=True).drop_duplicates("dedup_key")
        splits = rebuild(lineage, frames)
        return cls(init_from, manifest, examples.reset_index(drop=True), files, lineage, splits)

    def validation(self) -> pd.DataFrame:
        """The rows the parent was calibrated and measured on: none of them trained it."""
        return self.splits.validation

    def held_out(self) -> pd.DataFrame:
        """The rows no model of the lineage trained on (its validation and gate rows)."""
        return self.splits.held_out

    def trained(self) -> pd.DataFrame:
        """The rows some model of the lineage trained on."""
        return self.splits.trained


def rebuild(lineage: list[dict[str, Any]], frames: list[pd.DataFrame]) -> Splits:
    """Every generation's split again, with the code and seeds that made it."""
    splits, unsplit = None, frozenset()
    for entry, examples in zip(lineage, frames, strict=True):
        fraction, seed = entry.get("data_config", {}).get("val_fraction", 0.2), entry["seed"]
        if splits is None or entry.get("split") == SCRATCH:
            train, val = split_grouped(examples, fraction, seed)
            held, random = val, unsplit_groups(examples)
        else:  # its groups split at random include unsplit_groups(examples)
            train, val, gate, random = child_splits(examples, splits, fraction, seed)
            held = pd.concat([val, gate], ignore_index=True)
        unsplit |= random
        trained = pd.concat([splits.trained, train]) if splits is not None else train
        held = exclude_keys(held.drop_duplicates("dedup_key"), trained)
        splits = Splits(trained.reset_index(drop=True), val, held, unsplit)
    return splits


def _find_old_file(entry: dict[str, Any], init_from: Path) -> Path:
    """An old training file: as recorded (relative to cwd) or relative to the repo root."""
    recorded = Path(entry["path"])
    for candidate in (recorded, init_from.resolve().parents[1] / recorded):
        if candidate.is_file():
            if sha256_file(candidate) != entry["sha256"]:
                # Its rows and splits are no longer the ones the parent saw: the rebuilt
                # held-out data could hold texts the parent trained on.
                raise TrainingDataError(
                    f"{candidate} changed since {init_from} (or an ancestor) was trained on it"
                    " (sha256 differs): restore that version; the fine-tune rebuilds the"
                    " parent's held-out data from it"
                )
            return candidate
    raise TrainingDataError(
        f"replay data {recorded} (training data of {init_from} or its ancestors) not found;"
        " make it available at that path: the fine-tune replays it and rebuilds the parent's"
        " held-out data from it for the promotion check"
    )


def inherited_config(cfg: TrainConfig, init_from: Path) -> TrainConfig:
    """`cfg` with the model settings the fine-tune really uses: the parent's adapter. A model.*
    key the user set to another value is refused rather than silently ignored."""
    parent = parent_model(init_from)
    written = explicit_keys(cfg)
    for key in FIXED:
        mine, theirs = getattr(cfg.model, key), getattr(parent, key)
        if f"model.{key}" in written and not _same(key, mine, theirs):
            raise ConfigError(
                f"model.{key} = {_show(mine)}, but {init_from} was trained with"
                f" model.{key} = {_show(theirs)}; a fine-tune continues the parent's weights"
                f" and adapter, so remove model.{key} from the config and overrides (or train"
                " from scratch with configs/train.toml)"
            )
    max_length = cfg.model.max_length if "model.max_length" in written else parent.max_length
    return dataclasses.replace(cfg, model=dataclasses.replace(parent, max_length=max_length))


def parent_model(init_from: Path) -> ModelSection:
    """The parent's model settings as its files say: kind, base and layers from its manifest,
    the LoRA settings from its adapter config (a manifest config may predate them)."""
    manifest = verify_dir(init_from)
    recorded = manifest.get("training", {}).get("config", {}).get("model", {})
    names = {f.name for f in dataclasses.fields(ModelSection)}
    values = {k: v for k, v in recorded.items() if k in names}
    values.update(base=manifest["base_model"]["source"], kind=manifest["weights"]["kind"],
                  layers=tuple(manifest["base_model"].get("layers", ())),
                  max_length=manifest["max_length"])  # fmt: skip
    adapter = Path(init_from) / "adapter_config.json"
    if values["kind"] == "lora" and adapter.is_file():
        lora = json.loads(adapter.read_text(encoding="utf-8"))
        modules = tuple(recorded.get("target_modules") or sorted(lora["target_modules"]))
        if set(modules) != set(lora["target_modules"]):
            modules = tuple(sorted(lora["target_modules"]))
        values.update(lora_r=lora["r"], lora_alpha=lora["lora_alpha"],
                      lora_dropout=lora["lora_dropout"], target_modules=modules)  # fmt: skip
    values["target_modules"] = tuple(values.get("target_modules", ModelSection.target_modules))
    return ModelSection(**values)


def _same(key: str, mine: Any, theirs: Any) -> bool:
    if key == "base":  # a packaged name or the hub id it stands for
        return PACKAGED_BASES.get(mine, mine) == PACKAGED_BASES.get(theirs, theirs)
    if key == "target_modules":
        return set(mine) == set(theirs)
    return tuple(mine) == tuple(theirs) if key == "layers" else mine == theirs


def _show(value: Any) -> str:
    return repr(list(value)) if isinstance(value, tuple) else repr(value)
