"""ONNX export of a model directory, cached next to the weights in `<model>/onnx/`.

The cache holds the fp32 graph (every logit column the network has; the manifest's `heads`
map says which columns form which head) and its int8 version (`pipeline.onnx_quant`). `meta.json`
records a digest of the source weights and of the export recipe, plus each file's sha256:
a cache built from other weights, by another recipe, or altered on disk is rebuilt. The
cache is written in a staging directory and renamed into place, so a crash or a concurrent
build never leaves a half-written cache behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Collection
from pathlib import Path
from typing import Any

from pipeline.artifact import DERIVED_DIR, ModelError, sha256_file, verify_base, verify_dir
from pipeline.onnx_quant import quantize_int8, weight_bits

# Bump whenever the graph or the quantisation changes: every existing cache is rebuilt.
RECIPE = {"version": 2, "opset": 17, "attention": "eager", "int8": "onnx_quant v2"}
CACHE_DIR = DERIVED_DIR
META = "meta.json"
FILES = {"fp32": "model.fp32.onnx", "int8": "model.int8.onnx"}
INPUTS = ("input_ids", "attention_mask")


def recipe() -> dict[str, Any]:
    """RECIPE with this CPU's int8 weight range (pipeline.onnx_quant.weight_bits)."""
    return {**RECIPE, "int8_bits": weight_bits()}


def source_digest(manifest: dict[str, Any]) -> str:
    """What the cache was built from: the model's files, its base encoder and the recipe."""
    parts = [manifest.get("files", {}), manifest["base_model"]["sha256"], recipe()]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cache_dir(model_dir: Path, manifest: dict[str, Any]) -> Path:
    """`<model>/onnx`, or a per-user cache when the model dir is read-only (a system install)."""
    if os.access(model_dir, os.W_OK):
        return model_dir / CACHE_DIR
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "comment-audit" / "onnx" / source_digest(manifest)[:16]


def cached_model(cache: Path, manifest: dict[str, Any], precision: str) -> Path | None:
    """The cached graph for `precision` if it is current and intact, else None."""
    try:
        meta = json.loads((cache / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    path = cache / FILES[precision]
    if meta.get("source") != source_digest(manifest) or not path.is_file():
        return None
    return path if sha256_file(path) == meta["files"].get(path.name) else None


def ensure_onnx(
    model_dir: str | Path,
    precision: str = "int8",
    base: str | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """The ONNX graph of a model dir, exported (once) into `<model>/onnx/` when missing.
    Pass `manifest` when the directory was just verified, to skip hashing it again."""
    model_dir = Path(model_dir)
    manifest = manifest or verify_dir(model_dir)
    cache = cache_dir(model_dir, manifest)
    found = cached_model(cache, manifest, precision)
    if found is None:
        # The fp32 graph alone (OpenVINO's input) skips the int8 quantisation, ~3 s.
        build_cache(model_dir, manifest, cache, base, ("fp32",) if precision == "fp32" else FILES)
        found = cached_model(cache, manifest, precision)
    if found is None:
        raise ModelError(f"{cache}: the ONNX export did not verify; delete that directory")
    return found


def export_model(model_dir: str | Path, force: bool = False) -> list[Path]:
    """`comment-audit export`: the cached graphs (fp32, int8), rebuilt when stale or forced."""
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise ModelError(f"model directory {model_dir} not found (try models/default)")
    manifest = verify_dir(model_dir)
    cache = cache_dir(model_dir, manifest)
    if force or any(cached_model(cache, manifest, p) is None for p in FILES):
        build_cache(model_dir, manifest, cache)
    return [ensure_onnx(model_dir, p, manifest=manifest) for p in FILES]


def build_cache(
    model_dir: Path,
    manifest: dict[str, Any],
    target: Path,
    base: str | None = None,
    precisions: Collection[str] = FILES,
) -> Path:
    """Export + quantise into a staging dir, then swap it in for any stale cache.
    `precisions`: the graphs to build (keys of FILES); ("fp32",) skips the int8 version."""
    from pipeline.network import load_network

    network = load_network(model_dir, manifest, verify_base(manifest, base))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Staging sits next to the target so the final rename stays on one filesystem (atomic).
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        export_fp32(network, staging / FILES["fp32"])
        if "int8" in precisions:
            quantize_int8(staging / FILES["fp32"], staging / FILES["int8"], weight_bits())
        _write_meta(staging, manifest, network)
        _swap_in(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _write_meta(staging: Path, manifest: dict[str, Any], network: Any) -> None:
    meta = {
        "source": source_digest(manifest),
        "recipe": recipe(),
        "n_logits": n_logits(network),
        "heads": manifest["heads"],
        "files": {
            name: sha256_file(staging / name)
            for name in FILES.values()
            if (staging / name).is_file()
        },
    }
    (staging / META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    for path in staging.iterdir():  # mkdtemp makes 0700/0600 entries; others may score too
        path.chmod(0o644)
    staging.chmod(0o755)


def _swap_in(staging: Path, target: Path) -> None:
    """Rename staging onto target; a stale target is moved aside first, then deleted."""
    old = target.with_name(f".{target.name}.old.{os.getpid()}")
    if target.exists():
        os.rename(target, old)
    with contextlib.suppress(OSError):  # another process finished first: as good as ours
        os.rename(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def export_fp32(network: Any, path: Path, opset: int = RECIPE["opset"]) -> None:
    """Trace `network` to ONNX with dynamic batch and sequence axes; output: all logits."""
    # torch only here: loading a cached graph (every scoring run after the first) needs none.
    import torch

    from pipeline.network import LogitsOnly

    # Eager attention exports as plain MatMul/Softmax, which ORT runs (and int8-quantises)
    # faster than the SDPA graph with its NaN guards (measured, docs/benchmarks.md).
    _eager_attention(network)
    ids = torch.tensor([[101, 2023, 2003, 102], [101, 2023, 102, 0]])
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {"logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.inference_mode(False):
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python code
        torch.onnx.export(
            LogitsOnly(network.eval()), (ids, (ids != 0).long()), str(path), dynamo=False,
            input_names=list(INPUTS), output_names=["logits"], dynamic_axes=axes,
            opset_version=opset,
        )  # fmt: skip


def _eager_attention(network: Any) -> None:
    # The outermost transformers model passes the choice down to its attention layers.
    for module in network.modules():
        if hasattr(module, "set_attn_implementation"):
            module.set_attn_implementation("eager")
            return


def n_logits(network: Any) -> int:
    """How many logit columns the network emits (all heads together)."""
    import torch

    ids = torch.tensor([[101, 102]])
    with torch.inference_mode():
        return int(network(input_ids=ids, attention_mask=torch.ones_like(ids)).logits.shape[1])
