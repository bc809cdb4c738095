"""The OpenVINO backend: the cached fp32 ONNX export on OpenVINO, the same interface and scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("openvino", reason="the openvino extra is not installed")
pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

from pipeline.artifact import ModelError  # noqa: E402
from pipeline.backends import OpenVinoClassifier, load_classifier  # noqa: E402
from pipeline.cpu import available_cores  # noqa: E402

TEXTS = [
    "check out my channel for free music [url]",
    "love this song",
    "",
    "DM @crypto_guru to earn $5k a week",
    "wow",
    "word " * 200,  # longer than max_length: truncated the same way on every backend
]


def test_fp32_matches_torch_exactly_enough(model_dir, torch_model):
    fp32 = OpenVinoClassifier.from_pretrained(model_dir, precision="fp32")
    assert fp32.precision == "fp32"
    np.testing.assert_allclose(fp32.logits_clean(TEXTS), torch_model.logits_clean(TEXTS), atol=1e-4)
    with pytest.raises(ModelError, match="unknown precision 'int4' for openvino"):
        OpenVinoClassifier.from_pretrained(model_dir, precision="int4")


def test_same_interface_and_every_head(model_dir, torch_model):
    ov = load_classifier(model_dir, "openvino")
    scores = ov.score_clean(TEXTS, batch_size=2)
    assert set(scores) == set(torch_model.manifest["heads"])
    assert scores["p_spam"].shape == (len(TEXTS),) and scores["p_spam"].dtype == np.float64
    assert ov.logits_clean(TEXTS).shape == torch_model.logits_clean(TEXTS).shape
    np.testing.assert_allclose(
        scores["p_spam"], torch_model.score_clean(TEXTS)["p_spam"], atol=0.02
    )
    assert ov.predict_proba(TEXTS).shape == (len(TEXTS), 2)
    assert ov.score_clean([])["p_spam"].shape == (0,)
    assert ov.threshold == torch_model.threshold
    # At the median p_spam both labels occur, so a swapped label or a fixed 0.5 would fail.
    p_spam = ov.predict_proba(TEXTS)[:, 1]
    ov.manifest = {**ov.manifest, "threshold": float(np.median(p_spam))}
    labels = ov.predict(TEXTS).tolist()
    assert labels == np.where(p_spam >= np.median(p_spam), "spam", "genuine").tolist()
    assert {"spam", "genuine"} <= set(labels)


def test_streams_keep_the_input_order(model_dir):
    ov = load_classifier(model_dir, "openvino")
    assert ov.streams == available_cores()  # one single-threaded stream per core
    forward = ov.score_clean(TEXTS, batch_size=1)["p_spam"]  # alone, so order-independent
    backward = ov.score_clean(TEXTS[::-1], batch_size=1)["p_spam"][::-1]
    np.testing.assert_array_equal(backward, forward)
    many = TEXTS * 50  # more batches than streams, each borrowing an idle request
    np.testing.assert_array_equal(
        ov.score_clean(many, batch_size=3)["p_spam"], np.tile(forward, 50)
    )


def test_first_use_exports_only_the_fp32_graph(model_copy):
    model = model_copy
    load_classifier(model, "openvino")
    assert sorted(p.name for p in (model / "onnx").glob("*.onnx")) == ["model.fp32.onnx"]
    load_classifier(model, "onnx")  # the int8 graph is built when a backend needs it
    assert sorted(p.name for p in (model / "onnx").glob("*.onnx")) == [
        "model.fp32.onnx",
        "model.int8.onnx",
    ]
    load_classifier(model, "openvino")  # and the fuller cache still serves openvino


def test_missing_openvino_is_a_clear_error(model_dir, monkeypatch):
    monkeypatch.setattr("pipeline.backends.openvino_available", lambda: False)
    with pytest.raises(ModelError, match=r"pip install 'comment-audit\[openvino\]'"):
        load_classifier(model_dir, "openvino")


@pytest.mark.data
def test_openvino_agrees_with_torch_on_real_comments(agrees_with_fp32):
    """Acceptance: labels agree on >= 99.5% and |delta p_spam| <= 0.02 on >= 99%."""
    agrees_with_fp32("openvino")


def test_cli_scores_on_openvino_like_torch(model_dir, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t, "post_id": "p"}) + "\n" for t in TEXTS if t))
    scores = {}
    for backend in ("torch", "openvino"):
        out = tmp_path / f"{backend}.parquet"
        args = [
            "score",
            src,
            "-o",
            out,
            "--model",
            model_dir,
            "--backend",
            backend,
            "--no-progress",
        ]
        result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        scores[backend] = pd.read_parquet(out)["p_spam"].to_numpy()
    np.testing.assert_allclose(scores["openvino"], scores["torch"], atol=0.02)


def test_released_buffers_are_rebuilt_with_the_same_scores(model_dir):
    ov = load_classifier(model_dir, "openvino")
    before = ov.score_clean(TEXTS)["p_spam"]
    ov.release_memory()  # the scorer does this after every chunk
    np.testing.assert_array_equal(ov.score_clean(TEXTS)["p_spam"], before)


RACE = """
import sys, threading
from pipeline.backends import load_classifier
classifier = load_classifier(sys.argv[1], "openvino")
barrier, stop = threading.Barrier(2), threading.Event()
def busy():  # a Python thread holding the GIL often, as the cleaning thread does
    while not stop.is_set():
        pass
def first_batches():
    barrier.wait()
    for _ in range(5):
        classifier._forward([[101, 2023, 102]] * 4)
threading.Thread(target=busy, daemon=True).start()
streams = [threading.Thread(target=first_batches) for _ in range(2)]
[t.start() for t in streams]
[t.join() for t in streams]
stop.set()
"""


def test_first_batches_side_by_side_do_not_deadlock(model_dir):
    """Two streams' first batches at once hung ~60% of fresh processes (OpenVINO's numpy
    bridge set up by both at once); three fresh processes must all finish."""
    import subprocess
    import sys

    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", RACE, str(model_dir)], timeout=60, capture_output=True
        )
        assert run.returncode == 0, run.stderr.decode()[-2000:]
