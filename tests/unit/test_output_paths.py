"""Output paths that would destroy an input or another output, or can not be files, are
refused before any work, in one line with exit code 2; paths are printed as they are."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

LABELLED = "text,label\n" + "".join(
    f"free followers at example dot com {i},spam\nlovely photo number {i},genuine\n"
    for i in range(8)
)
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED)
    return path


def _refused(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert all(w in result.output for w in words), result.output


def test_evaluate_never_writes_over_its_data(tmp_path, labelled, tiny_model_dir):
    model = ("--model", tiny_model_dir)
    as_json = tmp_path / "data.json"
    as_json.write_text('[{"text": "hello there", "label": "genuine"}]')
    _refused(invoke("evaluate", *model, "--data", labelled, "--rejects", labelled), "input file")
    _refused(invoke("evaluate", *model, "--data", as_json, "-o", as_json), "input file")
    assert labelled.read_text() == LABELLED and as_json.read_text().startswith("[{")


def test_evaluate_checks_its_rejects_path_before_scoring(tmp_path, labelled, tiny_model_dir):
    out = tmp_path / "eval.json"
    result = invoke("evaluate", "--model", tiny_model_dir, "--data", labelled, "-o", out,
                    "--rejects", tmp_path / "r.txt")  # fmt: skip
    _refused(result, "r.txt", "unsupported output format")
    assert not out.exists() and not out.with_suffix(".svg").exists()


def test_train_never_writes_its_rejects_over_its_data(tmp_path, labelled):
    result = invoke("train", "--config", "configs/smoke.toml", "--data", labelled,
                    "-o", tmp_path / "m", "--rejects", labelled)  # fmt: skip
    _refused(result, "input file")
    assert labelled.read_text() == LABELLED


def test_labelled_data_from_standard_input_is_refused(tiny_model_dir):
    result = runner.invoke(app, ["evaluate", "--model", str(tiny_model_dir), "--data", "-"],
                           input=LABELLED)  # fmt: skip
    _refused(result, "standard input")


def test_clean_refuses_one_path_for_output_and_rejects(tmp_path, labelled):
    same = tmp_path / "same.jsonl"
    _refused(invoke("clean", labelled, "-o", same, "--rejects", same), "two outputs")
    assert not same.exists()


@pytest.mark.parametrize("case", ["directory", "under a file", "rejects a directory"])
def test_an_output_that_can_not_be_a_file_is_refused_before_any_work(tmp_path, labelled, case):
    out = {"directory": tmp_path / "d.csv", "under a file": labelled / "x.csv",
           "rejects a directory": tmp_path / "o.csv"}[case]  # fmt: skip
    if case != "under a file":
        (tmp_path / ("d.csv" if case == "directory" else "o.rejects.jsonl")).mkdir()
    _refused(invoke("clean", labelled, "-o", out, "--no-progress"), "error:")
    assert not (tmp_path / "o.csv").exists()
    assert not list(tmp_path.glob(".*.tmp")) and not list(tmp_path.glob("*/.*.tmp"))


@pytest.mark.parametrize("name", ["x[/].csv", "comments[final].csv", "[red]x.csv"])
def test_paths_with_brackets_are_printed_as_they_are(tmp_path, labelled, name):
    result = invoke("clean", labelled, "-o", tmp_path / name, "--no-progress")
    assert result.exit_code == 0, result.output
    assert f"-> {tmp_path / name}" in result.output
