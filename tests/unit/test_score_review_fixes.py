"""Scoring bugs a review reproduced: input columns named like output columns, a resume across
a changed manifest, and output paths that fail only after all the work."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from typer.testing import CliRunner

from pipeline import io
from pipeline.cli import app
from pipeline.score import ScoreConfig, run_fingerprint

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def _export(tmp_path: Path) -> Path:
    rows = pd.DataFrame({
        "comment_id": ["1", "2", "3"], "post_id": ["p1", "p1", "p2"],
        "text": ["love it", "check my bio for free money", "which flour?"],
        "lang": ["en", "en", "de"], "n_chars": ["x", "y", "z"], "p_note": ["a", "b", "c"],
    })  # fmt: skip
    path = tmp_path / "export.csv"
    rows.to_csv(path, index=False)
    return path


def test_input_columns_named_like_output_columns_are_kept_under_another_name(tmp_path):
    frame = pd.concat(io.read_chunks(_export(tmp_path)))
    assert {"input_lang", "input_n_chars", "input_p_note"} <= set(frame.columns)
    assert not {"lang", "n_chars", "p_note"} & set(frame.columns)


def test_scoring_such_an_export_keeps_both(tmp_path, tiny_model_dir):
    out = tmp_path / "scored.parquet"
    result = invoke("score", _export(tmp_path), "-o", out, "--model", tiny_model_dir,
                    "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(out)
    assert scored["input_lang"].tolist() == ["en", "en", "de"] and "lang" in scored
    assert scored["input_p_note"].tolist() == ["a", "b", "c"]


def test_a_changed_manifest_is_another_run(tmp_path):
    path = _export(tmp_path)
    manifest = {"files": {"adapter_model.safetensors": "abc"}, "threshold": 0.865}
    before = run_fingerprint(path, SimpleNamespace(manifest=manifest), ScoreConfig(), None)
    moved = SimpleNamespace(manifest={**manifest, "threshold": 0.2})
    assert run_fingerprint(path, moved, ScoreConfig(), None) != before


def test_bad_output_paths_are_refused_before_scoring(tmp_path, tiny_model_dir):
    export = _export(tmp_path)
    original = export.read_bytes()
    for args in (["-o", tmp_path / "out.txt"],
                 ["-o", tmp_path / "out.parquet", "--rejects", tmp_path / "rej.txt"],
                 ["-o", export]):  # fmt: skip
        result = invoke("score", export, *args, "--model", tiny_model_dir, "--no-progress")
        assert result.exit_code == 2, result.output
    assert export.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]  # no parts, no output
