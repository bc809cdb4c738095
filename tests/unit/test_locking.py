"""Two runs writing the same output: the second is refused at once, with what to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.locking import OutputBusy, exclusive, lock_path

REPO = Path(__file__).resolve().parents[2]
HOLDER = (
    "import sys, time; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire();"
    " print('held', flush=True); time.sleep(120)"
)


def export(path: Path, n: int = 40) -> Path:
    rows = [{"comment_id": str(i), "post_id": f"p{i % 3}", "post_owner": "owner",
             "author": f"u{i % 5}", "text": f"comment {i % 7}"} for i in range(n)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def assert_refused(result, output: Path) -> None:
    assert result.exit_code == 2, result.output
    message = " ".join(result.output.split())
    assert str(output) in message and "another comment-audit run is writing" in message
    assert "wait for that run to finish, or pass another --output" in message


def test_exclusive_refuses_a_second_holder_and_releases(tmp_path):
    out = tmp_path / "scored.parquet"
    with exclusive(out) as path:
        assert path == tmp_path / ".scored.parquet.lock"
        busy = pytest.raises(OutputBusy, match="scored.parquet: another comment-audit run")
        with busy, exclusive(out):
            pass
    with exclusive(out):  # released: a later run goes ahead
        pass


@pytest.fixture
def held(tmp_path):
    """Hold an output's lock as another process would (flock is per open file)."""
    locks = []

    def hold(output: Path) -> None:
        lock = FileLock(lock_path(output))
        lock.acquire()
        locks.append(lock)

    yield hold
    for lock in locks:
        lock.release()


def test_score_refuses_an_output_another_run_is_writing(tmp_path, tiny_model_dir, held):
    out = tmp_path / "scored.parquet"
    held(out)
    result = invoke("score", export(tmp_path / "in.jsonl"), "-o", out, "--model", tiny_model_dir,
                    "--no-progress")  # fmt: skip
    assert_refused(result, out)
    assert not out.exists() and not (tmp_path / "scored.parquet.parts").exists()


def test_report_and_audit_refuse_a_busy_directory(tmp_path, tiny_model_dir, held):
    scored = tmp_path / "scored.parquet"
    assert invoke("score", export(tmp_path / "in.jsonl"), "-o", scored, "--model",
                  tiny_model_dir, "--no-progress").exit_code == 0  # fmt: skip
    held(tmp_path / "report")
    result = invoke("report", scored, "-o", tmp_path / "report", "--model", tiny_model_dir)
    assert_refused(result, tmp_path / "report")
    campaign = tmp_path / "c.toml"
    campaign.write_text('[campaign]\nname = "x"\n[[creators]]\nhandle = "owner"\nposts = ["p1"]\n')
    held(tmp_path / "audit")
    result = invoke("audit", tmp_path / "in.jsonl", "--campaign", campaign, "-o",
                    tmp_path / "audit", "--model", tiny_model_dir, "--no-progress")  # fmt: skip
    assert_refused(result, tmp_path / "audit")
    assert not (tmp_path / "audit" / "scored.parquet").exists()


def test_a_lock_held_by_a_killed_process_does_not_block(tmp_path, tiny_model_dir):
    out = tmp_path / "scored.parquet"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path(out))],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        src = export(tmp_path / "in.jsonl")
        args = ("score", src, "-o", out, "--model", tiny_model_dir, "--no-progress")
        assert_refused(invoke(*args), out)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert lock_path(out).exists()  # the file stays, the lock on it is gone
        assert invoke(*args).exit_code == 0 and out.exists()
    finally:
        holder.kill()
        holder.wait()


def test_a_lock_that_cannot_be_created_says_so_not_busy(tmp_path):
    from pipeline.schemas import InputError

    (tmp_path / ".out.html.lock").mkdir()  # no file can be created there
    refused = pytest.raises(InputError, match="cannot write next to the output")
    with refused as caught, exclusive(tmp_path / "out.html"):
        pass
    assert not isinstance(caught.value, OutputBusy)


def test_report_into_the_current_directory(tmp_path, tiny_model_dir, monkeypatch):
    # `-o .` has no name of its own; its lock is named after the absolute path.
    scored = tmp_path / "scored.parquet"
    assert invoke("score", export(tmp_path / "in.jsonl"), "-o", scored, "--model",
                  tiny_model_dir, "--no-progress").exit_code == 0  # fmt: skip
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    result = invoke("report", scored, "-o", ".", "--model", tiny_model_dir)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "here" / "report.html").is_file()
    assert lock_path(".") == tmp_path / ".here.lock"
