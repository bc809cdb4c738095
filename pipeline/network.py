"""The classifier network: a sentence encoder, mean pooling and a linear head.

all-MiniLM-L6-v2 was trained as a mean-pooled sentence encoder; its [CLS]/pooler output
was never trained for sentence meaning. Mean pooling keeps the pretrained geometry, which
matters with a few thousand labels (frozen embeddings + logistic regression, leave one
video out: mean pooling F1 0.88 vs pooler 0.82).

Weights on disk are safetensors only: a peft LoRA adapter (kind "lora", head saved via
modules_to_save) over the pinned base, or the whole state dict (kind "full").
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pipeline.artifact import LABELS, ModelError

HEAD = "mean_pool_linear"


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence load reports and progress bars (a new head is always reported missing)."""
    from transformers.utils import logging as hf_logging

    level, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            # peft calls a transformers API deprecated for v6; not actionable here.
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


class Output:
    """Just the logits (what transformers' outputs expose, without their machinery)."""

    def __init__(self, logits: torch.Tensor) -> None:
        self.logits = logits


class LogitsOnly(nn.Module):
    """The network's logits as a plain tensor, for the ONNX export (models return Output)."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.network(input_ids=input_ids, attention_mask=attention_mask).logits.float()


class MeanPoolClassifier(nn.Module):
    def __init__(self, encoder: nn.Module, num_labels: int = len(LABELS), dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.config = encoder.config
        self.num_labels = num_labels
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any) -> Output:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return Output(self.classifier(self.dropout(pooled)))


def _encoder_from_pretrained(base_dir: Path) -> nn.Module:
    from transformers import AutoModel

    with quiet_transformers():
        try:  # the pooler is unused; leaving it out keeps LoRA off it
            return AutoModel.from_pretrained(
                str(base_dir), add_pooling_layer=False, use_safetensors=True
            )
        except TypeError:  # architectures without a pooler option
            return AutoModel.from_pretrained(str(base_dir), use_safetensors=True)


def base_network(
    base_dir: Path, num_labels: int = len(LABELS), layers: Sequence[int] = ()
) -> MeanPoolClassifier:
    """A fresh classifier over the pretrained base encoder (head randomly initialised),
    keeping only the encoder `layers` when given (a shallower student of the same base)."""
    encoder = _encoder_from_pretrained(base_dir)
    if layers:
        keep_layers(encoder, layers)
    return MeanPoolClassifier(encoder, num_labels)


def keep_layers(encoder: nn.Module, layers: Sequence[int]) -> None:
    """Drop every transformer layer but `layers`, in place (BERT-style `encoder.layer`)."""
    stack = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(stack, nn.ModuleList):
        raise ModelError(f"{type(encoder).__name__} has no encoder.layer list to take layers from")
    if max(layers) >= len(stack):
        raise ModelError(f"model.layers {list(layers)}: the base has only {len(stack)} layers")
    encoder.encoder.layer = nn.ModuleList(stack[i] for i in layers)
    encoder.config.num_hidden_layers = len(layers)


def n_logits(manifest: dict[str, Any]) -> int:
    """Logit columns of the head: two per output head (p_spam, p_generic, ...)."""
    heads = manifest.get("heads") or {}
    columns = [c for head in heads.values() for c in head["logits"]]
    return max(columns, default=len(LABELS) - 1) + 1


def load_network(
    model_dir: Path, manifest: dict[str, Any], base_dir: Path, trainable: bool = False
) -> nn.Module:
    """The network of a verified model dir. LoRA adapters are merged into the base for
    inference; with `trainable` the adapter stays separate so training can continue."""
    head = manifest["weights"].get("head")
    if head != HEAD:
        raise ModelError(f"{model_dir}: unknown head {head!r}; this version reads {HEAD}")
    if manifest["weights"]["kind"] == "full":
        return _load_full(model_dir, n_logits(manifest))
    from peft import PeftModel

    layers = manifest["base_model"].get("layers", ())
    base = base_network(base_dir, n_logits(manifest), layers)
    with quiet_transformers():
        model = PeftModel.from_pretrained(base, str(model_dir), is_trainable=trainable)
        return model if trainable else model.merge_and_unload()


def _load_full(model_dir: Path, num_labels: int) -> MeanPoolClassifier:
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    with quiet_transformers():
        config = AutoConfig.from_pretrained(str(model_dir), trust_remote_code=False)
    try:
        encoder = AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        encoder = AutoModel.from_config(config)
    network = MeanPoolClassifier(encoder, num_labels)
    network.load_state_dict(load_file(str(model_dir / "model.safetensors")), strict=True)
    return network


def save_network(network: nn.Module, staging: Path, kind: str) -> None:
    """Write the weights files of `kind` into `staging`."""
    if kind == "lora":
        # No embedding check: peft would look the base id up on the hub.
        network.save_pretrained(str(staging), save_embedding_layers=False)
        return
    from safetensors.torch import save_file

    state = {k: v.detach().contiguous() for k, v in network.state_dict().items()}
    save_file(state, str(staging / "model.safetensors"), metadata={"format": "pt"})
    network.config.save_pretrained(str(staging))
