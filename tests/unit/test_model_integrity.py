"""Every way a model directory can be tampered with, refused through the CLI: exit 2, one line
that says what is wrong and what to do, and no output written.

(The library-level refusals and the save/load round trip are in tests/unit/test_model.py.)
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.artifact import MANIFEST, sha256_file
from pipeline.cli import app


def edit_manifest(change: Callable[[dict], object]) -> Callable[[Path], None]:
    def tamper(model: Path) -> None:
        manifest = json.loads((model / MANIFEST).read_text())
        replaced = change(manifest)
        (model / MANIFEST).write_text(json.dumps(manifest if replaced is None else replaced))

    return tamper


def flip_last_byte(model: Path) -> None:
    path = model / "adapter_model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))


def remote_code(model: Path) -> None:
    path = model / "adapter_config.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "auto_map": {"x": "evil.X"}}))
    # An attacker can rewrite the manifest's hash too: the refusal must not rely on it.
    edit_manifest(lambda m: m["files"].update({"adapter_config.json": sha256_file(path)}))(model)


def link_outside(model: Path) -> None:
    """A listed file swapped for a link to an identical copy elsewhere: the hash still matches."""
    outside = model.parent / "elsewhere"
    outside.mkdir()
    shutil.move(model / "tokenizer.json", outside / "tokenizer.json")
    (model / "tokenizer.json").symlink_to(outside / "tokenizer.json")


def link_dir(model: Path) -> None:
    (model.parent / "extra").mkdir()
    (model / "extra").symlink_to(model.parent / "extra")


def new_file(name: str, data: bytes = b"{}") -> Callable[[Path], None]:
    return lambda model: (model / name).write_bytes(data)


CASES = {
    "tampered weights": (flip_last_byte, r"does not match its sha256.*restore the original"),
    "unknown format version": (edit_manifest(lambda m: m.update(format_version=99)),
                               r"format_version 99 is not supported.*upgrade comment-audit"),
    "pickle file": (new_file("pytorch_model.bin", b"\x80\x04K\x01."), r"pickle.*delete them"),
    "remote code": (remote_code, r"auto_map.*never runs remote code"),
    "unlisted file": (new_file("notes.txt", b"hi"), r"not in the manifest: notes.txt; remove"),
    "missing file": (lambda m: (m / "tokenizer.json").unlink(),
                     r"tokenizer.json is listed in the manifest but missing"),
    "symlink outside": (link_outside, r"tokenizer.json is a symbolic link to .*cp -L"),
    "symlinked directory": (link_dir, r"extra is a symbolic link"),
    "fifo": (lambda m: os.mkfifo(m / "pipe.json"), r"pipe.json is not a regular file"),
    "manifest not json": (new_file(MANIFEST, b"{not json"), r"not valid JSON.*re-export"),
    "manifest not an object": (edit_manifest(lambda m: [m]), r"not a JSON object; re-export"),
    "files not an object": (edit_manifest(lambda m: m.update(files=["x"])),
                            r"'files' is not a JSON object"),
    "no manifest": (lambda m: (m / MANIFEST).unlink(), r"no manifest.json.*comment-audit train"),
    "other base encoder": (edit_manifest(lambda m: m["base_model"].update(sha256="0" * 64)),
                           r"base encoder .* sha256 .*install the same base encoder"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_tampered_model_is_refused_through_the_cli(case, model_copy, tmp_path):
    tamper, expected = CASES[case]
    tamper(model_copy)
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "free followers, dm me"}\n')
    out = tmp_path / "scored.parquet"
    args = ["score", source, "-o", out, "--model", model_copy, "--backend", "torch"]
    result = CliRunner().invoke(app, [*map(str, args), "--no-progress"], catch_exceptions=False)
    message = " ".join(result.output.split())
    assert result.exit_code == 2, message
    assert message.startswith("error: ") and "Traceback" not in message
    assert re.search(expected, message), message
    assert not out.exists()
