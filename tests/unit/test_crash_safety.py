"""kill -9 at exact points of scoring, report writing and training, then run again.

tests/killer.py sends SIGKILL to the CLI process at the Nth call of a chosen function, so
each test hits the same instant every time. After each kill: nothing incomplete under a
final name; after the rerun: the same output as a run never interrupted (byte-identical for
scored rows with --resume), and a model directory that is complete or absent.
(Killing at a random moment mid-scoring: tests/unit/test_score.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.unit.conftest import GENUINE, SPAM
from tests.unit.test_score import export

REPO = Path(__file__).resolve().parents[2]
REPORT_FILES = ("groups_post.csv", "groups_owner.csv", "groups_author.csv", "flagged.csv",
                "summary.json", "report.html")  # fmt: skip


def killed(spec: str, *args) -> subprocess.CompletedProcess:
    """Run the CLI under tests/killer.py and check it really died of SIGKILL."""
    cmd = [sys.executable, "-m", "tests.killer", spec, "--", *map(str, args)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == -9, f"not killed at {spec}: {done.stderr[-2000:]}"
    return done


def invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def visible(directory: Path) -> set[str]:
    return {p.name for p in directory.iterdir() if not p.name.startswith(".")}


SCORE_KILLS = [
    "pipeline.writers:TableWriter.write:2:killed.csv",  # half of the final file written
    "os:replace:1:killed.csv",  # the final file complete, not yet renamed into place
]


@pytest.mark.parametrize(
    "spec", [SCORE_KILLS[0], pytest.param(SCORE_KILLS[1], marks=pytest.mark.slow)]
)
def test_kill_while_writing_the_scored_file_then_resume(tmp_path, tiny_model_dir, spec):
    src = export(tmp_path / "in.jsonl", 1_000)
    common = ("--model", tiny_model_dir, "--chunk-size", "100", "--no-progress")
    invoke("score", src, "-o", tmp_path / "whole.csv", *common)
    target = tmp_path / "killed.csv"
    killed(spec, "score", src, "-o", target, *common)
    assert not target.exists(), "a partial output must never appear under the final name"
    assert len(list((tmp_path / "killed.csv.parts").glob("part-*.parquet"))) == 10
    resumed = invoke("score", src, "-o", target, *common, "--resume")
    assert target.read_bytes() == (tmp_path / "whole.csv").read_bytes()
    # Every part was on disk: a run that really resumed sends no text through the model.
    assert "(0 distinct texts through the model)" in resumed.output


@pytest.fixture(scope="module")
def scored(tiny_model_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("crash-report")
    invoke("score", export(tmp / "in.jsonl", 600), "-o", tmp / "scored.parquet", "--model",
           tiny_model_dir, "--no-progress")  # fmt: skip
    return tmp / "scored.parquet"


def complete(directory: Path) -> None:
    """Every report file under its final name parses and is whole."""
    for name in visible(directory):
        path = directory / name
        if name.endswith(".csv"):
            assert pd.read_csv(path).shape[1] > 3, name
        elif name.endswith(".json"):
            assert json.loads(path.read_text())["schema_version"] >= 1
        else:
            assert path.read_text().rstrip().endswith("</html>"), name


@pytest.mark.parametrize(
    "n", [pytest.param(n, marks=[] if n == 3 else pytest.mark.slow) for n in range(1, 7)]
)
def test_kill_while_writing_a_report_leaves_whole_files(scored, tiny_model_dir, tmp_path, n):
    out = tmp_path / "report"
    args = ("report", scored, "-o", out, "--model", tiny_model_dir)
    invoke(*args)
    before = {name: (out / name).read_bytes() for name in visible(out)}
    killed(f"os:replace:{n}", *args)  # the nth file is complete but not yet in place
    complete(out)
    invoke(*args)
    assert visible(out) == set(REPORT_FILES)
    for name in REPORT_FILES:
        if name.endswith(".csv"):
            assert (out / name).read_bytes() == before[name], name


def labelled(path: Path) -> Path:
    rows = [{"text": f"{text} {k}", "label": label, "post_id": f"p{i % 4}"}
            for k in range(3) for label, texts in (("spam", SPAM), ("genuine", GENUINE))
            for i, text in enumerate(texts)]  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


TRAIN_KILLS = [
    "training.export:model_card:1",  # weights and tokenizer written, no manifest yet
    "os:rename:1:tiny-model",  # the staging dir complete, not yet renamed into place
]


@pytest.mark.slow  # trains twice in a fresh process: about 20 s
@pytest.mark.parametrize("spec", TRAIN_KILLS)
def test_kill_while_exporting_a_model_leaves_it_absent(tmp_path, tiny_base, spec):
    from pipeline.model import Classifier

    target = tmp_path / "tiny-model"
    args = ("train", "--config", REPO / "configs" / "smoke.toml", "--data",
            labelled(tmp_path / "l.csv"), "-o", target, f"--model.base={tiny_base}",
            "--train.max_steps=2", "--model.max_length=32")  # fmt: skip
    killed(spec, *args)
    assert not target.exists(), "a model directory is complete or absent"
    invoke(*args)
    assert Classifier.from_pretrained(target).predict(["free followers, dm me"]).shape == (1,)
