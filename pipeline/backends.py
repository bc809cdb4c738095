"""Inference backends behind one interface: torch (`pipeline.model.Classifier`) and ONNX Runtime.

Backends: "torch" (fp32: the exact training-time scores), "torch-bf16" (bfloat16 weights,
CPUs with native bf16 only) and "onnx" (int8). The default is the fastest accurate one on
this CPU (docs/benchmarks.md): torch-bf16 with AMX, else onnx when installed, else torch.

`OnnxClassifier` is a `Classifier` whose logits come from an ONNX Runtime session over the
cached int8 export (`pipeline.onnx_export`). Heads, calibration, `predict` and
`predict_proba` are inherited, so both backends turn logits into scores with one code path.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.artifact import ModelError, verify_dir
from pipeline.model import (
    Classifier,
    amx_bf16,
    available_cores,
    load_tokenizer,
    pad_batch,
    warn_on_cleaning_drift,
)

# onnxruntime writes telemetry files under ~/.cache unless told not to (read at import).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
# Torch backend name -> network precision.
TORCH_BACKENDS = {"torch": "fp32", "torch-bf16": "bf16"}
BACKENDS = (*TORCH_BACKENDS, "onnx")
# Small batches keep a layer's activations in L2 (measured best, docs/benchmarks.md); with
# batches sorted by length, padding waste is already near zero at any batch size.
ONNX_BATCH = 16


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def default_backend() -> str:
    """The fastest accurate backend here: torch bf16 on AMX (~2x ONNX int8 there), else ONNX
    Runtime int8 when installed. AVX-512 BF16 without AMX was not measured, so not chosen."""
    if amx_bf16():
        return "torch-bf16"
    return "onnx" if onnx_available() else "torch"


def load_classifier(
    path: str | Path,
    backend: str | None = None,
    base: str | None = None,
    threads: int | None = None,
) -> Classifier:
    """A verified model dir loaded on `backend` (one of BACKENDS; None: the fastest here)."""
    backend = backend or default_backend()
    if backend in TORCH_BACKENDS:
        precision = TORCH_BACKENDS[backend]
        return Classifier.from_pretrained(path, base=base, threads=threads, precision=precision)
    if backend != "onnx":
        raise ModelError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    if not onnx_available():
        raise ModelError("backend onnx needs onnxruntime: pip install 'comment-audit[onnx]'")
    return OnnxClassifier.from_pretrained(path, base=base, threads=threads)


def session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning workers burn the cores that the reader/cleaner thread needs between batches.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_options() -> Any:
    import onnxruntime as ort

    options = ort.RunOptions()
    # Every batch has its own shape, so the arena keeps growing (+460 MB after 4,000 comments,
    # measured); shrinking it after each run keeps +130 MB for the same CPU time.
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


class OnnxClassifier(Classifier):
    """A Classifier running an ONNX graph; `streams` batches run at once (ORT frees the GIL)."""

    batch_size = ONNX_BATCH

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        manifest: dict[str, Any],
        streams: int = 1,
        precision: str = "int8",
    ) -> None:
        # Deliberately not Classifier.__init__: there is no torch network to put in eval mode.
        self.model, self.tokenizer, self.manifest = model, tokenizer, manifest
        self.precision = precision
        self.directory: Path | None = None
        self.streams = streams
        self._run_options = run_options()

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        base: str | None = None,
        threads: int | None = None,
        precision: str = "int8",
    ) -> OnnxClassifier:
        """Load a model dir, exporting it to ONNX first when `<model>/onnx/` is missing/stale."""
        from pipeline.onnx_export import ensure_onnx

        path = Path(path)
        if not path.is_dir():
            raise ModelError(f"model directory {path} not found (try models/default)")
        manifest = verify_dir(path)
        warn_on_cleaning_drift(path, manifest)
        graph = ensure_onnx(path, precision, base, manifest)
        # One single-threaded session per core, run side by side, scales better on small
        # batches than one session splitting each op over the cores (no per-op barrier).
        cores = threads or available_cores()
        classifier = cls(session(graph, 1), load_tokenizer(path), manifest, cores, precision)
        classifier.directory = path
        return classifier

    @property
    def n_logits(self) -> int:
        return int(self.model.get_outputs()[0].shape[1])

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        input_ids, mask = pad_batch(rows, self.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        return self.model.run(["logits"], feeds, self._run_options)[0]
