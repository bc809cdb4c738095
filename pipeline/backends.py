"""Inference backends behind one interface: torch (`pipeline.model.Classifier`), ONNX Runtime
and OpenVINO.

Backends: "torch" (fp32: the exact training-time scores), "torch-bf16" (bfloat16 weights,
CPUs with native bf16 only), "onnx" (int8 on ONNX Runtime) and "openvino" (the fp32 export
run by OpenVINO's CPU plugin, in bf16 where the CPU has native bf16). The default is the
fastest accurate one on this CPU (docs/benchmarks.md): on AMX, openvino when installed, else
torch-bf16; elsewhere onnx when installed, else torch.

`OnnxClassifier` and `OpenVinoClassifier` are `Classifier`s whose logits come from the cached
ONNX export (`pipeline.onnx_export`). Heads, calibration, `predict` and `predict_proba` are
inherited, so every backend turns logits into scores with one code path.
"""

from __future__ import annotations

import importlib.util
import os
import queue
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.artifact import ModelError
from pipeline.cpu import amx_bf16, available_cores, cpu_bf16, native_bf16
from pipeline.model import Classifier, open_model_dir, pad_batch
from pipeline.tokens import load_tokenizer

# onnxruntime writes telemetry files under ~/.cache unless told not to (read at import).
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
# Torch backend name -> network precision.
TORCH_BACKENDS = {"torch": "fp32", "torch-bf16": "bf16"}
BACKENDS = (*TORCH_BACKENDS, "onnx", "openvino")
# Graph backend name -> the cached ONNX graph it reads (pipeline.onnx_export.FILES).
ONNX_GRAPHS = {"onnx": "int8", "openvino": "fp32"}
# Small batches keep a layer's activations in L2 (measured best, docs/benchmarks.md); with
# batches sorted by length, padding waste is already near zero at any batch size.
ONNX_BATCH = 16


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def openvino_available() -> bool:
    return importlib.util.find_spec("openvino") is not None and onnx_available()


def default_backend() -> str:
    """The fastest accurate backend here. On AMX: OpenVINO bf16 (~1.25x torch bf16 alone, ~2x
    beside the cleaning thread, which stalls torch's Python-dispatched ops), else torch bf16
    (~2x ONNX int8). Elsewhere ONNX Runtime int8 when installed: on an AVX2-only CPU it tied
    with OpenVINO fp32 end to end and held ~170 MiB less (docs/benchmarks.md). AVX-512 BF16
    without AMX was not measured, so not chosen."""
    if amx_bf16() and openvino_available():
        return "openvino"
    if amx_bf16() and native_bf16():
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
    if backend == "openvino":
        if not openvino_available():
            raise ModelError(
                "backend openvino needs openvino and onnxruntime:"
                " pip install 'comment-audit[openvino]'"
            )
        return OpenVinoClassifier.from_pretrained(path, base=base, threads=threads)
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


class GraphClassifier(Classifier):
    """A Classifier whose logits come from a compiled graph (`model`), not a torch network;
    `streams` batches run at once, since both runtimes free the GIL while they run."""

    def __init__(
        self, model: Any, tokenizer: Any, manifest: dict[str, Any], streams: int, precision: str
    ) -> None:
        # Deliberately not Classifier.__init__: there is no torch network to put in eval mode.
        self.model, self.tokenizer, self.manifest = model, tokenizer, manifest
        self.precision = precision
        self.directory: Path | None = None
        self.streams = streams


class OnnxClassifier(GraphClassifier):
    """A Classifier running an ONNX graph on ONNX Runtime."""

    batch_size = ONNX_BATCH

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        manifest: dict[str, Any],
        streams: int = 1,
        precision: str = "int8",
    ) -> None:
        super().__init__(model, tokenizer, manifest, streams, precision)
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

        path, manifest = open_model_dir(path)
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

    @property
    def engine(self) -> str:
        """With the int8 weights' range, which follows the CPU: a run resumed on another kind
        of CPU starts afresh rather than mix 7- and 8-bit scores in one output."""
        from pipeline.onnx_quant import weight_bits

        bits = f"/{weight_bits()}bit" if self.precision == "int8" else ""
        return super().engine + bits

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        input_ids, mask = pad_batch(rows, self.pad_id)
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        return self.model.run(["logits"], feeds, self._run_options)[0]


# Our precision names -> OpenVINO's inference precision hints.
OPENVINO_PRECISIONS = {"bf16": "bf16", "fp32": "f32"}


def compile_openvino(graph: Path, streams: int, precision: str) -> Any:
    """The ONNX graph compiled for the CPU: `streams` single-threaded streams, `precision`
    (a key of OPENVINO_PRECISIONS) for the matrix products."""
    import openvino as ov

    if precision not in OPENVINO_PRECISIONS:
        choices = ", ".join(OPENVINO_PRECISIONS)
        raise ModelError(f"unknown precision {precision!r} for openvino; choose from {choices}")
    config = {
        "INFERENCE_PRECISION_HINT": OPENVINO_PRECISIONS[precision],
        "NUM_STREAMS": str(streams),
        "INFERENCE_NUM_THREADS": str(streams),
    }
    return ov.Core().compile_model(str(graph), "CPU", config)


class OpenVinoClassifier(GraphClassifier):
    """A Classifier running the fp32 ONNX export on OpenVINO, bf16 on native-bf16 CPUs.

    The whole graph runs in C++ with the GIL released, so unlike torch eager (whose every op
    is dispatched from Python) it keeps most of its rate while the cleaning thread runs.
    Each batch borrows an idle infer request, one per stream, so `streams` run side by side.
    """

    batch_size = 64  # measured best with 2 streams: 1,822 / 1,878 / 1,717 at 32 / 64 / 128

    def __init__(
        self, model: Any, tokenizer: Any, manifest: dict[str, Any], streams: int, precision: str
    ) -> None:
        super().__init__(model, tokenizer, manifest, streams, precision)
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        for _ in range(streams):
            self._idle.put(model.create_infer_request())
        # One batch on this thread before any run side by side: OpenVINO's bindings set up
        # their numpy bridge on first use, and two threads doing that at once deadlock on the
        # GIL (pybind11's call-once inside a static initialiser, pybind/pybind11#4877); it
        # hung 5 of 8 fresh processes whose first two batches started together.
        self._forward([[self.pad_id]])

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        base: str | None = None,
        threads: int | None = None,
        precision: str | None = None,
    ) -> OpenVinoClassifier:
        """Load a model dir, exporting it to ONNX first when `<model>/onnx/` is missing/stale."""
        from pipeline.onnx_export import ensure_onnx

        path, manifest = open_model_dir(path)
        graph = ensure_onnx(path, ONNX_GRAPHS["openvino"], base, manifest)
        # Emulated bf16 is slower than fp32, so bf16 only where the CPU multiplies it natively.
        precision = precision or ("bf16" if cpu_bf16() else "fp32")
        streams = threads or available_cores()
        model = compile_openvino(graph, streams, precision)
        classifier = cls(model, load_tokenizer(path), manifest, streams, precision)
        classifier.directory = path
        return classifier

    @property
    def n_logits(self) -> int:
        return int(self.model.output(0).get_partial_shape()[1].get_length())

    def release_memory(self) -> None:
        # The infer requests keep ~160-400 MB of intermediate buffers after a chunk; they are
        # rebuilt on the next batch at no measurable cost (1,618 vs 1,640/s, 20,000 comments).
        self.model.release_memory()

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        input_ids, mask = pad_batch(rows, self.pad_id)
        request = self._idle.get()
        try:
            # share_outputs=False (the default) copies the logits out of the request's buffer.
            return request.infer({"input_ids": input_ids, "attention_mask": mask})[0]
        finally:
            self._idle.put(request)
