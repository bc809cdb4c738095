"""The bundled example export is what its generator writes from examples/sources/texts.toml,
so an edit to the texts cannot drift from the committed files unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SCRIPT = REPO / "scripts" / "make_example_export.py"


def test_generator_reproduces_the_committed_example_files(tmp_path: Path) -> None:
    out = tmp_path / "instagram_export.jsonl"
    subprocess.run([sys.executable, str(SCRIPT), "-o", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (EXAMPLES / "instagram_export.jsonl").read_bytes()
    assert (tmp_path / "campaign.toml").read_bytes() == (EXAMPLES / "campaign.toml").read_bytes()


def test_another_seed_writes_another_export(tmp_path: Path) -> None:
    out = tmp_path / "other.jsonl"
    subprocess.run([sys.executable, str(SCRIPT), "--seed", "7", "-o", str(out)], check=True)
    assert out.read_bytes() != (EXAMPLES / "instagram_export.jsonl").read_bytes()
