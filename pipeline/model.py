"""The spam classifier: a fine-tuned sentence encoder loaded from a verified model directory.

`Classifier.from_pretrained(dir)` checks the directory against its manifest (see
`pipeline.artifact`), rebuilds the network over the pinned base encoder and scores text.
Probabilities are temperature-calibrated; `predict` uses the manifest's decision threshold.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.artifact import ModelError, verify_base, verify_dir
from pipeline.cpu import available_cores, native_bf16
from pipeline.tokens import Encoder, load_tokenizer

# torch (and transformers) are imported where a torch network is built or run, not here: the
# graph backends (pipeline.backends) load a model and score a whole export without them,
# ~2-4 s of imports and ~200 MB less per process.

__all__ = [
    "PRECISIONS",
    "Classifier",
    "ModelError",
    "calibrated",
    "load_tokenizer",
]

PRECISIONS = ("fp32", "bf16")


def checked_precision(precision: str) -> str:
    """`precision` if this CPU runs it at full speed; emulated bf16 is refused, not run slowly."""
    if precision not in PRECISIONS:
        raise ModelError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    if precision == "bf16" and not native_bf16():
        raise ModelError(
            "bf16 needs a CPU with native bf16 (flags amx_bf16 or avx512_bf16); this one would "
            "emulate it, slower than fp32: use backend torch or onnx"
        )
    return precision


def calibrated(logits: np.ndarray, temperature: float, positive: int = 1) -> np.ndarray:
    """Temperature-scaled softmax probability of column `positive`."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e[:, positive] / e.sum(axis=1)


def pad_batch(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids, attention_mask) int64 arrays, padded to the longest row."""
    input_ids = np.full((len(rows), max(map(len, rows))), pad_id, dtype=np.int64)
    mask = np.zeros_like(input_ids)
    for k, row in enumerate(rows):
        input_ids[k, : len(row)] = row
        mask[k, : len(row)] = 1
    return input_ids, mask


class Classifier:
    """A loaded model: network, tokenizer and manifest. Inference only (eval mode)."""

    batch_size = 64  # length-sorted batches; measured best for torch (docs/benchmarks.md)

    def __init__(
        self,
        network: Any,
        tokenizer: Any,
        manifest: dict[str, Any],
        threads: int | None = None,
        precision: str = "fp32",
    ) -> None:
        self.precision = checked_precision(precision)
        # bf16 weights, not autocast: no per-call weight casts, and layer norms, GELU and
        # residual adds move half the bytes (+14% comments/s, docs/benchmarks.md).
        import torch

        network = network.eval()
        self.network = network.to(torch.bfloat16) if precision == "bf16" else network
        self.tokenizer = tokenizer
        self.manifest = manifest
        self.directory: Path | None = None
        cores = threads or available_cores()
        # bf16 runs one single-threaded stream per core on its own batch, as the ONNX backend
        # does: no per-op barrier between cores, which stalls on a busy machine (2 streams did
        # 4x the comments/s of one 2-thread stream there). fp32 keeps torch's own threading.
        self.streams = cores if precision == "bf16" else 1
        # Torch defaults to all host cores, which oversubscribes a CPU-limited container.
        torch.set_num_threads(cores // self.streams)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        base: str | None = None,
        threads: int | None = None,
        precision: str = "fp32",
    ) -> Classifier:
        """Load and verify a model dir; `base` overrides where the base encoder is found.

        `precision` "bf16" runs the network in bfloat16 (CPUs with native bf16 only: see
        `native_bf16`); "fp32" reproduces the training-time scores exactly."""
        from pipeline.network import load_network

        path, manifest = open_model_dir(path)
        base_dir = verify_base(manifest, base)
        network = load_network(path, manifest, base_dir)
        classifier = cls(network, load_tokenizer(path), manifest, threads, precision)
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

    @functools.cached_property
    def _encoder(self) -> Encoder:
        return Encoder(self.tokenizer, self.max_length)

    def encode(self, model_texts: Sequence[str]) -> list[list[int]]:
        """Token ids of already-cleaned texts, truncated at `max_length` (pipeline.tokens)."""
        return self._encoder(model_texts)

    def logits_clean(self, model_texts: Sequence[str], batch_size: int | None = None) -> np.ndarray:
        """Raw (uncalibrated) logits for already-cleaned text, in input order."""
        return self.logits_ids(self.encode(model_texts), batch_size)

    def logits_ids(self, ids: list[list[int]], batch_size: int | None = None) -> np.ndarray:
        """Raw logits for token ids from `encode`, in input order."""
        out = np.zeros((len(ids), self.n_logits), dtype=np.float32)
        # Similar lengths in one batch keep padding (wasted compute) small. Longest first:
        # each batch's tensors then fit in blocks that longer batches freed, where shortest
        # first grew the heap by ~1 GB per 20,000 texts (docs/benchmarks.md).
        order = np.argsort([-len(x) for x in ids], kind="stable")
        size = batch_size or self.batch_size
        batches = [order[s : s + size] for s in range(0, len(order), size)]

        def run(rows: np.ndarray) -> None:
            out[rows] = self._forward([ids[i] for i in rows])

        self._run_all(run, batches)
        return out

    @property
    def n_logits(self) -> int:
        return int(self.network.num_labels)

    def _run_all(self, run: Callable[[np.ndarray], None], batches: list[np.ndarray]) -> None:
        """`run` each batch here, or on `streams` threads side by side (torch frees the GIL)."""
        if self.streams == 1:
            for rows in batches:
                run(rows)
            return
        with ThreadPoolExecutor(self.streams) as pool:
            list(pool.map(run, batches))

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        """Logits of one batch of token ids, padded to its longest row."""
        import torch

        ids, mask = (torch.from_numpy(a) for a in pad_batch(rows, self.pad_id))
        with torch.inference_mode():  # thread-local, so entered in the thread that runs it
            return self.network(input_ids=ids, attention_mask=mask).logits.float().numpy()

    def release_memory(self) -> None:
        """Hand back buffers kept between calls; the scorer calls it after each chunk. Torch
        keeps none (the allocator's are trimmed by pipeline.memory)."""

    @property
    def pad_id(self) -> int:
        return int(self.tokenizer.pad_token_id or 0)

    def score_clean(
        self, model_texts: Sequence[str], batch_size: int | None = None
    ) -> dict[str, np.ndarray]:
        """Calibrated head probabilities ({"p_spam": ...}) for already-cleaned text.

        `batch_size` None: the backend's own best (64 for torch, 16 for ONNX Runtime)."""
        return self.score_ids(self.encode(model_texts), batch_size)

    def score_ids(
        self, ids: list[list[int]], batch_size: int | None = None
    ) -> dict[str, np.ndarray]:
        """`score_clean` for token ids from `encode`."""
        logits = self.logits_ids(ids, batch_size)
        default_t = float(self.manifest["calibration"]["temperature"])
        scores = {}
        for name, head in self.manifest["heads"].items():
            temperature = float(head.get("temperature", default_t))
            scores[name] = calibrated(logits[:, head["logits"]], temperature, head["positive"])
        return scores

    @property
    def engine(self) -> str:
        """The runtime and precision that compute the scores: one output never mixes two."""
        return f"{type(self).__name__}/{self.precision}"

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """(n, 2) calibrated probabilities for RAW comments, columns in `labels` order."""
        p_spam = self.score_clean(clean_texts(texts))["p_spam"]
        return np.column_stack([1.0 - p_spam, p_spam])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Label names for RAW comments: spam where calibrated p_spam >= the threshold."""
        p_spam = self.predict_proba(texts)[:, 1]
        return np.where(p_spam >= self.threshold, "spam", "genuine").astype(object)


def open_model_dir(path: str | Path) -> tuple[Path, dict[str, Any]]:
    """A model dir and its verified manifest, as every backend's `from_pretrained` opens it."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"model directory {path} not found (try models/default)")
    manifest = verify_dir(path)
    warn_on_cleaning_drift(path, manifest)
    return path, manifest


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
