"""The spam classifier: a fine-tuned sentence encoder loaded from a verified model directory.

`Classifier.from_pretrained(dir)` checks the directory against its manifest (see
`pipeline.artifact`), rebuilds the network over the pinned base encoder and scores text.
Probabilities are temperature-calibrated; `predict` uses the manifest's decision threshold.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.artifact import ModelError, verify_base, verify_dir
from pipeline.network import load_network, quiet_transformers

__all__ = [
    "Classifier",
    "ModelError",
    "available_cores",
    "calibrated",
    "load_network",
    "quiet_transformers",
]


def available_cores() -> int:
    """CPUs this process may use: the affinity mask (cgroup aware, unlike os.cpu_count),
    capped by OMP_NUM_THREADS when the user set it (e.g. on a shared machine)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    requested = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(requested)) if requested.isdigit() and int(requested) > 0 else cores


def calibrated(logits: np.ndarray, temperature: float, positive: int = 1) -> np.ndarray:
    """Temperature-scaled softmax probability of column `positive`."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e[:, positive] / e.sum(axis=1)


def load_tokenizer(directory: Path) -> Any:
    from transformers import AutoTokenizer

    with quiet_transformers():
        return AutoTokenizer.from_pretrained(str(directory), trust_remote_code=False)


class Classifier:
    """A loaded model: network, tokenizer and manifest. Inference only (eval mode)."""

    def __init__(
        self, network: Any, tokenizer: Any, manifest: dict[str, Any], threads: int | None = None
    ) -> None:
        self.network = network.eval()
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.directory: Path | None = None
        # Torch defaults to all host cores, which oversubscribes a CPU-limited container.
        torch.set_num_threads(threads or available_cores())

    @classmethod
    def from_pretrained(
        cls, path: str | Path, base: str | None = None, threads: int | None = None
    ) -> Classifier:
        """Load and verify a model dir; `base` overrides where the base encoder is found."""
        path = Path(path)
        if not path.is_dir():
            raise ModelError(f"model directory {path} not found (try models/default)")
        manifest = verify_dir(path)
        warn_on_cleaning_drift(path, manifest)
        base_dir = verify_base(manifest, base)
        network = load_network(path, manifest, base_dir)
        classifier = cls(network, load_tokenizer(path), manifest, threads)
        classifier.directory = path
        return classifier

    @property
    def labels(self) -> list[str]:
        return list(self.manifest["labels"])

    @property
    def threshold(self) -> float:
        return float(self.manifest["threshold"])

    @property
    def max_length(self) -> int:
        return int(self.manifest["max_length"])

    def logits_clean(self, model_texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Raw (uncalibrated) logits for already-cleaned text, in input order."""
        n_out = self.network.num_labels
        if len(model_texts) == 0:
            return np.zeros((0, n_out), dtype=np.float32)
        enc = self.tokenizer(
            list(model_texts),
            truncation=True,
            max_length=self.max_length,
            return_token_type_ids=False,
        )
        ids = enc["input_ids"]
        out = np.zeros((len(ids), n_out), dtype=np.float32)
        # Similar lengths in one batch keep padding (wasted compute) small.
        order = np.argsort([len(x) for x in ids], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer.pad(
                    {"input_ids": [ids[i] for i in rows]}, padding=True, return_tensors="pt"
                )
                out[rows] = self.network(**batch).logits.float().numpy()
        return out

    def score_clean(
        self, model_texts: Sequence[str], batch_size: int = 64
    ) -> dict[str, np.ndarray]:
        """Calibrated head probabilities ({"p_spam": ...}) for already-cleaned text."""
        logits = self.logits_clean(model_texts, batch_size)
        default_t = float(self.manifest["calibration"]["temperature"])
        scores = {}
        for name, head in self.manifest["heads"].items():
            temperature = float(head.get("temperature", default_t))
            scores[name] = calibrated(logits[:, head["logits"]], temperature, head["positive"])
        return scores

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2) calibrated probabilities for RAW comments, columns in `labels` order."""
        p_spam = self.score_clean(clean_texts(texts))["p_spam"]
        return np.column_stack([1.0 - p_spam, p_spam])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Label names for RAW comments: spam where calibrated p_spam >= the threshold."""
        p_spam = self.predict_proba(texts)[:, self.labels.index("spam")]
        return np.where(p_spam >= self.threshold, "spam", "genuine").astype(object)


def warn_on_cleaning_drift(path: Path, manifest: dict[str, Any]) -> None:
    """A model scores text as it was cleaned in training; other cleaning shifts its inputs."""
    from pipeline.clean import CLEANING_VERSION

    trained = manifest.get("cleaning_version")
    if trained != CLEANING_VERSION:
        warnings.warn(
            f"{path} was trained with cleaning {trained}, this install cleans with "
            f"{CLEANING_VERSION}; scores may drift: retrain or evaluate it before relying on it",
            stacklevel=3,
        )


def clean_texts(texts: Sequence[str]) -> list[str]:
    # Same cleaning as training and batch scoring, so the model sees one text form.
    from pipeline.clean import clean_many

    return [c.text for c in clean_many(list(texts))]
