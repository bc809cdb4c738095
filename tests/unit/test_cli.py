"""The CLI end to end on the example export, with the tiny random-weight model."""

from __future__ import annotations

import json
import re
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


def _groups(report_dir: Path) -> list:
    return json.loads((report_dir / "summary.json").read_text())["groups"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_report_reads_the_text_formats_score_writes(tiny_model_dir, tmp_path, suffix):
    for name in (f"scored{suffix}", "scored.parquet"):
        result = invoke("score", EXAMPLE, "-o", tmp_path / name, "--model", tiny_model_dir,
                        "--backend", "torch", "--no-progress")  # fmt: skip
        assert result.exit_code == 0, result.output
        result = invoke("report", tmp_path / name, "--by", "owner", "--by", "author", "-o",
                        tmp_path / f"r{name}", "--model", tiny_model_dir)  # fmt: skip
        assert result.exit_code == 0, result.output
    assert _groups(tmp_path / f"rscored{suffix}") == _groups(tmp_path / "rscored.parquet")


def _unscored(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "empty.parquet").write_bytes(b"")
    (tmp_path / "no_parts").mkdir()
    return {
        "no such file": tmp_path / "missing.parquet",
        "not a readable Parquet table": tmp_path / "empty.parquet",
        "pred_label": EXAMPLE,  # an export, not scored
        "no .parquet files": tmp_path / "no_parts",
    }


def test_report_on_what_is_not_a_scored_table_is_one_line_exit_2(tiny_model_dir, tmp_path):
    for expected, source in _unscored(tmp_path).items():
        result = invoke("report", source, "-o", tmp_path / "r", "--model", tiny_model_dir)
        assert result.exit_code == 2, result.output
        assert expected in result.output and str(source) in result.output
        assert "Traceback" not in result.output


def test_report_warns_when_the_file_was_scored_at_another_threshold(audit_dir, tiny_model_dir,
                                                                    tmp_path):  # fmt: skip
    scored = pd.read_parquet(audit_dir / "scored.parquet")
    result = invoke("report", audit_dir / "scored.parquet", "-o", tmp_path / "same", "--model",
                    tiny_model_dir)  # fmt: skip
    assert result.exit_code == 0 and "warning" not in result.output  # its own model
    # As if scored by a model with a lower threshold: 3 comments at p_spam 0.01 flagged.
    scored.loc[scored.index[:3], ["p_spam", "pred_label"]] = [0.01, "spam"]
    scored.to_parquet(tmp_path / "other.parquet")
    result = invoke("report", tmp_path / "other.parquet", "-o", tmp_path / "r", "--model",
                    tiny_model_dir)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: 3 rows' pred_label disagree" in " ".join(result.output.split())


def test_report_on_parts_skips_notes_and_checkpoints(audit_dir, tiny_model_dir, tmp_path):
    parts = tmp_path / "scored"
    (parts / "run.parquet.parts").mkdir(parents=True)
    scored = pd.read_parquet(audit_dir / "scored.parquet")
    scored.iloc[:300].to_parquet(parts / "part-0.parquet")
    scored.iloc[300:].to_parquet(parts / "part-1.parquet")
    scored.iloc[:5].to_parquet(parts / "run.parquet.parts" / "part-000000.parquet")
    (parts / "notes.txt").write_text("not rows")
    result = invoke("report", parts, "--by", "owner", "-o", tmp_path / "r", "--model",
                    tiny_model_dir)  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["overall"]["n"] == len(scored)


def test_audit_prints_the_campaign_warnings(tiny_model_dir, tmp_path):
    # milo.wanders' post listed under another creator, and a post the export does not hold.
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[campaign]\nname = "x"\n[[creators]]\nhandle = "amara.cooks"\n'
                        'posts = ["DiyvIKv_-V-", "NotInTheExport"]\n')  # fmt: skip
    result = invoke("audit", EXAMPLE, "--campaign", campaign, "-o", tmp_path / "a", "--model",
                    tiny_model_dir, "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "NotInTheExport" in result.output
    assert "it was posted by milo.wanders" in " ".join(result.output.split())


def test_audit_of_an_export_with_no_usable_rows_is_exit_2(tiny_model_dir, tmp_path):
    export = tmp_path / "empty.jsonl"
    export.write_text('{"text": ""}\n{"text": "   "}\n')
    result = invoke("audit", export, "--campaign", CAMPAIGN, "-o", tmp_path / "a", "--model",
                    tiny_model_dir, "--no-progress")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "no comments to audit" in result.output
    assert len((tmp_path / "a" / "rejects.jsonl").read_text().splitlines()) == 2


def test_audit_refuses_a_verdict_config_that_is_not_there(tiny_model_dir, tmp_path):
    # A mistyped --config used to be ignored in silence, giving the built-in bands instead.
    missing = tmp_path / "my-bands.toml"
    result = invoke("audit", EXAMPLE, "--campaign", CAMPAIGN, "-o", tmp_path / "a", "--model",
                    tiny_model_dir, "--config", missing, "--no-progress")  # fmt: skip
    assert result.exit_code == 2 and "my-bands.toml" in result.output
    assert not (tmp_path / "a" / "scored.parquet").exists()  # refused before scoring


def test_a_campaign_file_that_is_not_utf8_names_the_file(tiny_model_dir, tmp_path):
    campaign = tmp_path / "campaign.toml"
    campaign.write_bytes('[campaign]\nname = "café"\n'.encode("latin-1"))
    result = invoke("audit", EXAMPLE, "--campaign", campaign, "-o", tmp_path / "a", "--model",
                    tiny_model_dir)  # fmt: skip
    assert result.exit_code == 2 and "not UTF-8" in result.output
    assert str(campaign) in result.output


def test_a_campaign_check_names_the_file(tiny_model_dir, tmp_path):
    campaign = tmp_path / "campaign.toml"
    campaign.write_text('[campaign]\nname = "x"\n[[creators]]\nhandle = "a"\nposts = []\n')
    result = invoke("audit", EXAMPLE, "--campaign", campaign, "-o", tmp_path / "a", "--model",
                    tiny_model_dir)  # fmt: skip
    assert result.exit_code == 2 and f"{campaign}: " in result.output
    assert "posts must be a non-empty list" in result.output


@pytest.mark.parametrize("option", ["--chunk-size=0", "--batch-size=-1"])
def test_sizes_below_one_are_exit_2(tiny_model_dir, tmp_path, option):
    result = invoke("score", EXAMPLE, "-o", tmp_path / "s.parquet", "--model", tiny_model_dir,
                    option)  # fmt: skip
    assert result.exit_code == 2 and "must be >= 1" in result.output


def test_control_characters_of_the_input_reach_the_terminal_escaped(tmp_path):
    src = tmp_path / "e.csv"
    src.write_text("id,\x1b[2J\x1b[31mbody\n1,x\n")
    result = invoke("clean", src, "-o", tmp_path / "o.csv")
    assert result.exit_code == 2
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output


def test_train_on_unlabelled_data_is_exit_2_and_keeps_its_rejects(tmp_path):
    data = tmp_path / "new.jsonl"
    data.write_text('{"text": "hello there"}\n{"text": ""}\n')
    smoke = REPO / "configs" / "smoke.toml"
    result = invoke("train", "--config", smoke, "--data", data, "-o", tmp_path / "m")
    assert result.exit_code == 2 and "no labels found" in result.output
    rejects = pd.read_json(tmp_path / "m.rejects.jsonl", lines=True)
    assert rejects[["line", "field"]].values.tolist() == [[2, "text"]]
    assert not (tmp_path / "m").exists()


def test_evaluate_on_one_class_is_exit_2_and_writes_rejects_beside_its_output(
    tiny_model_dir, tmp_path
):
    data = tmp_path / "spam.csv"
    rows = [f"{i},buy followers now {i},spam" for i in range(12)] + ["12,x,maybe"]
    data.write_text("comment_id,text,label\n" + "\n".join(rows) + "\n")
    result = invoke("evaluate", "--data", data, "--model", tiny_model_dir, "-o",
                    tmp_path / "eval" / "result.json")  # fmt: skip
    assert result.exit_code == 2 and "every example is spam" in result.output
    rejects = pd.read_json(tmp_path / "eval" / "result.rejects.jsonl", lines=True)
    assert rejects[["line", "field"]].values.tolist() == [[14, "label"]]


def test_evaluate_output_must_be_json(tiny_model_dir, tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("text,label\nbuy now,spam\nhi,genuine\n")
    result = invoke("evaluate", "--data", data, "--model", tiny_model_dir, "-o", tmp_path / "x.svg")
    assert result.exit_code == 2 and "give a .json path" in result.output
    assert not (tmp_path / "x.svg").exists()


def test_timestamps_at_the_ends_of_the_calendar_are_scored_and_reported(tiny_model_dir, tmp_path):
    stamps = ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "2262-04-12T00:00:00Z"]
    rows = [{"text": f"comment {i}", "post_id": "p", "author": f"a{i}", "created_at": t}
            for i, t in enumerate([*stamps, "2026-01-01T00:00:00Z"])]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["--model", tiny_model_dir]
    result = invoke("score", src, "-o", tmp_path / "s.parquet", *common, "--backend", "torch",
                    "--no-progress")  # fmt: skip
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(tmp_path / "s.parquet")
    # Outside 2000-2100 a timestamp is kept raw, not placed (see docs/formats.md).
    assert scored["created_at"].notna().tolist() == [False, False, False, True]
    assert scored["created_at_raw"].tolist()[:3] == stamps
    # A file scored before that rule (or by other tools) still holds them: the report copes.
    scored.assign(created_at=scored["created_at_raw"]).to_parquet(tmp_path / "s.parquet")
    result = invoke("report", tmp_path / "s.parquet", "-o", tmp_path / "r", *common)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "report.html").read_text()
    starts = [int(y) for y in re.findall(r"(\d{4,5})-\d\d-\d\d \u2013", html)]
    ends = [int(y) for y in re.findall(r"\u2013 (\d{4,5})-\d\d-\d\d UTC", html)]
    assert min(starts) == 1 and max(ends) >= 9999  # the time histogram spans them all


def test_a_parser_message_over_several_lines_is_printed_on_one(tmp_path):
    src = tmp_path / "cut.json"
    src.write_text('[{"text": "abc", "post_id": ')
    result = invoke("clean", src, "-o", tmp_path / "o.csv", "--no-progress")
    errors = [line for line in result.output.splitlines() if "error:" in line]
    assert result.exit_code == 2 and len(errors) == 1 and "premature EOF" in errors[0]


def test_a_refused_output_keeps_the_earlier_runs_rejects_file(tmp_path):
    (tmp_path / "m").mkdir()
    earlier = tmp_path / "m.rejects.jsonl"
    earlier.write_text('{"file": "old.csv", "line": 3}\n')
    smoke = REPO / "configs" / "smoke.toml"
    result = invoke("train", "--config", smoke, "--data", EXAMPLE, "-o", tmp_path / "m")
    assert result.exit_code == 2 and "already exists" in result.output
    assert earlier.read_text() == '{"file": "old.csv", "line": 3}\n'


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("audit.2026-12.csv", "audit.2026-12.rejects.jsonl"),
        ("scored.csv.gz", "scored.rejects.jsonl"),
        ("scored.parquet", "scored.rejects.jsonl"),
        ("models/mine.v2", "models/mine.v2.rejects.jsonl"),  # a model dir has no format ending
    ],
)
def test_the_default_rejects_file_keeps_every_dot_but_the_format_ending(output, expected):
    from pipeline.cli.common import rejects_path

    assert rejects_path(Path(output), None) == Path(expected)
    assert rejects_path(Path(output), Path("mine.jsonl")) == Path("mine.jsonl")


def test_two_dated_outputs_keep_their_own_rejects(tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("id,body\n1,check my channel\n2,\n")
    for month in ("2026-11", "2026-12"):
        out = tmp_path / f"clean.{month}.csv"
        assert invoke("clean", odd, "-o", out, "--map", "text=body").exit_code == 0
    assert (tmp_path / "clean.2026-11.rejects.jsonl").is_file()
    assert (tmp_path / "clean.2026-12.rejects.jsonl").is_file()
