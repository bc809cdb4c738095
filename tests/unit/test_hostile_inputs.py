"""Hostile exports through the real CLI: exit 2 with one clear line, or every record accounted for.

The corpus lives in tests/hostile.py (built at run time: nothing big is committed). For each
file: no traceback; unusable input exits 2 naming the file (and the line where there is one)
and writes no output; usable input exits 0 with input records = output rows + rejected rows,
each reject naming its file, line and reason.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.hostile import CASES, matches, run_case

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hostile_input_is_accounted_for(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert "Traceback" not in outcome.message
    assert matches(case, outcome), outcome.message
    if case.records is None:
        assert outcome.exit_code == 2, outcome.message
        assert outcome.message.startswith("error: ") and case.name in outcome.message
        assert not (tmp_path / "out.parquet").exists(), "no partial output on a failed read"
        return
    assert outcome.exit_code == 0, outcome.message
    assert (outcome.rows, outcome.rows + outcome.rejected) == (case.rows, case.records)
    for reject in outcome.rejects:
        assert reject["file"].endswith(case.name) and reject["line"] >= 1 and reject["reason"]
    if case.texts:
        assert pd.read_parquet(tmp_path / "out.parquet")["text"].tolist() == list(case.texts)


def test_a_10mb_comment_is_kept_and_marked_truncated(tmp_path):
    case = next(c for c in CASES if c.name == "field_10mb.csv")
    run_case(case, tmp_path)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert out["text"][0] == "spam " * (2 << 20)  # the raw text is kept whole
    assert out["truncated"].tolist() == [True, False]
    assert len(out["clean_text"][0]) <= 2000


def test_a_rejected_empty_text_names_its_field(tmp_path):
    case = next(c for c in CASES if c.name == "nul_bytes.csv")
    reject = run_case(case, tmp_path).rejects[0]
    assert (reject["line"], reject["field"], reject["reason"]) == (3, "text", "empty text")


def test_deep_nesting_in_a_real_process(tmp_path):
    """Outside the test runner too (its own stack and recursion limit): no crash, exit 0."""
    case = next(c for c in CASES if c.name == "nested_100k_in_record.json")
    source = tmp_path / case.name
    source.write_bytes(case.data())
    args = [sys.executable, "-m", "pipeline", "clean", str(source), "-o", str(tmp_path / "o.csv")]
    done = subprocess.run([*args, "--no-progress"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "1 row(s) rejected" in done.stderr and "1 rows cleaned" in done.stderr


def test_a_1mb_comment_is_scored_on_its_beginning_with_a_reason(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from pipeline.cli import app

    big = "free followers at my page " * 40_000  # about 1 MB
    source = tmp_path / "big.jsonl"
    source.write_text(json.dumps({"text": big}) + "\n" + json.dumps({"text": "short one"}) + "\n")
    out = tmp_path / "scored.parquet"
    args = ["score", source, "-o", out, "--model", tiny_model_dir, "--no-progress"]
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(out)
    assert scored["text"][0] == big and scored["truncated"].tolist() == [True, False]
    assert "truncated: the model read the first 2,000 characters" in scored["reasons"][0]
    assert "truncated" not in scored["reasons"][1]
