"""The CLI end to end on the example export, with the tiny random-weight model."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "instagram_export.jsonl"
CAMPAIGN = REPO / "examples" / "campaign.toml"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_help_lists_the_verbs_and_each_has_an_example():
    result = invoke("--help")
    for verb in ("clean", "score", "report", "audit", "train", "evaluate"):
        assert verb in result.output
        assert "Example" in invoke(verb, "--help").output


def test_clean_writes_every_row(tmp_path):
    result = invoke("clean", EXAMPLE, "-o", tmp_path / "clean.csv", "--no-progress")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "clean.csv")
    assert len(out) == sum(1 for _ in EXAMPLE.open())
    assert {"clean_text", "dedup_key", "n_emoji", "lang"} <= set(out.columns)


def test_missing_text_column_is_exit_2_with_the_columns_listed(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,body,who\n1,hello,a\n")
    result = invoke("clean", bad, "-o", tmp_path / "out.csv", "--no-progress")
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "body" in result.output and "--map" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_map_option_reads_an_unknown_schema(tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("id,body,video\n1,check my channel,v1\n2,,v1\n3,nice song,v2\n")
    result = invoke("clean", odd, "-o", tmp_path / "out.csv", "--map", "text=body,post_id=video")
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "out.csv")) == 2
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and rejects[0]["field"] == "text" and rejects[0]["line"] == 3


def test_unknown_model_dir_is_exit_2(tmp_path):
    result = invoke("score", EXAMPLE, "-o", tmp_path / "s.parquet", "--model", tmp_path / "nope")
    assert result.exit_code == 2 and "not found" in result.output


@pytest.fixture(scope="module")
def audit_dir(tiny_model_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("audit")
    result = invoke("audit", EXAMPLE, "--campaign", CAMPAIGN, "-o", out, "--model", tiny_model_dir,
                    "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_audit_writes_report_summary_and_scored_rows(audit_dir):
    for name in ("report.html", "summary.json", "scored.parquet", "flagged.csv"):
        assert (audit_dir / name).is_file(), name
    scored = pd.read_parquet(audit_dir / "scored.parquet")
    assert len(scored) == sum(1 for _ in EXAMPLE.open())
    summary = json.loads((audit_dir / "summary.json").read_text())
    handles = {c["handle"] for c in summary["audit"]["creators"]}
    assert handles == {"coach.lena.fit", "amara.cooks", "milo.wanders"}


def test_planted_generic_campaign_forms_copy_paste_clusters(audit_dir):
    scored = pd.read_parquet(audit_dir / "scored.parquet")
    planted = scored[scored["planted"] == "generic_campaign"]
    assert planted["copy_paste"].mean() > 0.9
    assert planted["cluster_posts"].min() >= 3
    genuine = scored[scored["planted"].isna()]
    assert genuine["copy_paste"].mean() < 0.02


def test_report_verb_on_scored_output(audit_dir, tiny_model_dir, tmp_path):
    result = invoke("report", audit_dir / "scored.parquet", "--by", "owner", "-o", tmp_path,
                    "--model", tiny_model_dir)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "groups_owner.csv").is_file()
    assert not (tmp_path / "groups_post.csv").exists()
