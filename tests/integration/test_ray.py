"""`score --engine ray` gives the local engine's rows, scores and signals, as Parquet parts."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="ray is not installed: pip install 'comment-audit[ray]'")

from pipeline import io  # noqa: E402
from pipeline.backends import load_classifier  # noqa: E402
from pipeline.engine_ray import score_ray  # noqa: E402
from pipeline.score import ScoreConfig, score_file  # noqa: E402
from tests.unit.conftest import tiny_base, tiny_cfg, tiny_fitted, tiny_model_dir  # noqa: E402, F401

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray")
TEXTS = ["check out my channel http://x.example", "love this", "DM @guru to earn $5k", "", "wow"]


@pytest.fixture(scope="module")
def local_ray():
    # Ray's socket paths must stay under 108 bytes: a short temp dir, not pytest's tmp_path.
    temp = tempfile.mkdtemp(prefix="ca-ray-test-")
    with pytest.MonkeyPatch.context() as env:  # restored for the modules that run after
        if "RAY_AUTH_MODE" not in os.environ:
            env.setenv("RAY_AUTH_MODE", "disabled")
        ray.init(num_cpus=2, include_dashboard=False, _temp_dir=temp, log_to_driver=False)
        yield ray
        ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


def export(path: Path, n: int) -> Path:
    rows = [
        {
            "comment_id": str(i),
            "post_id": f"p{i % 4}",
            "author": f"user{i % 9}",
            "text": TEXTS[i % len(TEXTS)] + (f" {i % 13}" if i % 2 else ""),
            "created_at": f"2026-01-01T00:{i % 60:02d}:00Z",
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_ray_engine_matches_local_engine(tmp_path, tiny_model_dir, local_ray):  # noqa: F811
    src = export(tmp_path / "in.jsonl", 240)
    local = tmp_path / "local.parquet"
    score_file(src, local, load_classifier(tiny_model_dir, "torch"))
    sink = io.RejectSink()
    summary = score_ray(
        src, tmp_path / "ray", tiny_model_dir, backend="torch",
        config=ScoreConfig(chunk_size=50), rejects=sink,
    )  # fmt: skip
    expected, got = pd.read_parquet(local), pd.read_parquet(tmp_path / "ray")
    assert len(list((tmp_path / "ray").glob("part-*.parquet"))) == 5  # 50 records a chunk
    assert summary.rows_scored == len(got) == len(expected) == 216
    assert sink.count == 24 and summary.rows_in == 240  # the empty texts
    assert got["comment_id"].tolist() == expected["comment_id"].tolist()
    np.testing.assert_allclose(got["p_spam"], expected["p_spam"], atol=1e-5)
    assert len(io.read_scored(tmp_path / "ray")) == 216  # what `report` reads
    same = ["pred_label", "dedup_key", "cluster_id", "copy_paste", "author_repeat", "in_burst"]
    pd.testing.assert_frame_equal(
        got[same].astype(str), expected[same].astype(str), check_dtype=False
    )


def test_texts_of_only_symbols_count_as_the_local_engine_counts_them(
    tmp_path,
    tiny_model_dir,  # noqa: F811
    local_ray,
):
    # "$$$" and ":)" share the empty dedup key, yet each is its own text for the model.
    src = tmp_path / "in.jsonl"
    texts = ["$$$", ":)", "★★★", "$$$", "love this", "love this!"]
    src.write_text("".join(json.dumps({"comment_id": str(i), "text": t}) + "\n"
                           for i, t in enumerate(texts)))  # fmt: skip
    local = score_file(src, tmp_path / "local.parquet", load_classifier(tiny_model_dir, "torch"))
    ray_summary = score_ray(src, tmp_path / "ray", tiny_model_dir, backend="torch")
    assert local.distinct_keys == ray_summary.distinct_keys == local.texts_scored == 4
    assert ray_summary.texts_scored == 4


def test_a_rerun_replaces_only_an_earlier_parts_directory(tmp_path):
    from pipeline.engine_ray import _staging

    out = tmp_path / "scored"
    for n in (3, 1):
        with _staging(out) as staging:
            for i in range(n):
                (staging / f"part-{i:05d}.parquet").write_bytes(b"")
    assert [p.name for p in out.iterdir()] == ["part-00000.parquet"]
    (out / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError), _staging(out):
        pass
    assert not list(tmp_path.glob(".scored.*"))  # no staging dirs left behind


def test_a_key_scored_in_an_earlier_chunk_keeps_those_scores(
    tmp_path,
    tiny_model_dir,  # noqa: F811
    local_ray,
):
    # One dedup key, cleaned three ways: the local engine scores the first for the whole export,
    # each actor only for its chunk; the parts take the export's first.
    texts = ["Beautiful photo", "Beautiful photo!!!", "BEAUTIFUL photo", "nice one", "so good"]
    rows = [{"comment_id": str(i), "post_id": f"p{i % 3}", "author": f"u{i}",
             "text": texts[0] if i < 10 else texts[1 + i % 4]} for i in range(60)]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    score_file(src, tmp_path / "local.parquet", load_classifier(tiny_model_dir, "torch"),
               config=ScoreConfig(chunk_size=20))  # fmt: skip
    score_ray(src, tmp_path / "ray", tiny_model_dir, backend="torch",
              config=ScoreConfig(chunk_size=20, batch_size=3))  # fmt: skip
    expected, got = pd.read_parquet(tmp_path / "local.parquet"), pd.read_parquet(tmp_path / "ray")
    np.testing.assert_array_equal(got["p_spam"], expected["p_spam"])
    assert got["text"].dtype == "string"  # not Arrow's large_string: the guards see text
    assert (tmp_path / "ray").stat().st_mode & 0o777 == 0o755  # not mkdtemp's 0700
