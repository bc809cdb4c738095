"""The torch bf16 backend: the fp32 interface and scores, only on CPUs with native bf16."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.artifact import ModelError
from pipeline.backends import default_backend, load_classifier
from pipeline.cpu import available_cores, native_bf16
from pipeline.model import Classifier

REPO = Path(__file__).resolve().parents[2]
TEXTS = ["check out my channel for free music [url]", "love this song", "", "wow", "word " * 200]
needs_bf16 = pytest.mark.skipif(
    not native_bf16(), reason="this CPU has no native bf16 (amx_bf16 or avx512_bf16 flag)"
)


@needs_bf16
def test_bf16_has_every_head_and_the_same_interface(tiny_model_dir):
    fp32 = load_classifier(tiny_model_dir, "torch")
    bf16 = load_classifier(tiny_model_dir, "torch-bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    scores = bf16.score_clean(TEXTS, batch_size=2)
    assert set(scores) == set(fp32.manifest["heads"])
    assert scores["p_spam"].shape == (len(TEXTS),) and scores["p_spam"].dtype == np.float64
    assert bf16.logits_clean(TEXTS).dtype == np.float32
    assert bf16.logits_clean(TEXTS).shape == fp32.logits_clean(TEXTS).shape
    np.testing.assert_allclose(scores["p_spam"], fp32.score_clean(TEXTS)["p_spam"], atol=0.02)
    assert bf16.predict_proba(TEXTS).shape == (len(TEXTS), 2)
    assert bf16.score_clean([])["p_spam"].shape == (0,)
    # At the median p_spam both labels occur, so a swapped label or a fixed 0.5 would fail.
    p_spam = bf16.predict_proba(TEXTS)[:, 1]
    bf16.manifest = {**bf16.manifest, "threshold": float(np.median(p_spam))}
    labels = bf16.predict(TEXTS).tolist()
    assert labels == np.where(p_spam >= np.median(p_spam), "spam", "genuine").tolist()
    assert {"spam", "genuine"} <= set(labels)


@needs_bf16
def test_bf16_streams_keep_the_input_order(tiny_model_dir):
    bf16 = load_classifier(tiny_model_dir, "torch-bf16")
    assert bf16.streams == available_cores()  # one single-threaded stream per core
    forward = bf16.score_clean(TEXTS, batch_size=1)["p_spam"]  # alone, so order-independent
    backward = bf16.score_clean(TEXTS[::-1], batch_size=1)["p_spam"][::-1]
    np.testing.assert_array_equal(backward, forward)


def test_bf16_is_refused_without_native_support(tiny_model_dir, monkeypatch):
    monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda: frozenset({"avx2", "avx512f"}))
    with pytest.raises(ModelError, match="native bf16"):
        load_classifier(tiny_model_dir, "torch-bf16")
    with pytest.raises(ModelError, match="unknown precision"):
        Classifier.from_pretrained(tiny_model_dir, precision="fp8")


@pytest.mark.parametrize(
    ("flags", "onnx", "openvino", "expected"),
    [
        ({"amx_bf16", "avx512_bf16"}, True, True, "openvino"),  # measured fastest on AMX
        ({"amx_bf16", "avx512_bf16"}, True, False, "torch-bf16"),
        ({"avx512_bf16"}, True, True, "onnx"),  # bf16 without AMX: not measured faster
        ({"avx2"}, True, True, "onnx"),
        ({"avx2"}, False, False, "torch"),
    ],
)
def test_default_backend_is_the_fastest_for_this_cpu(monkeypatch, flags, onnx, openvino, expected):
    monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda: frozenset(flags))
    monkeypatch.setattr("pipeline.backends.onnx_available", lambda: onnx)
    monkeypatch.setattr("pipeline.backends.openvino_available", lambda: openvino)
    assert default_backend() == expected


@pytest.mark.data
@needs_bf16
def test_bf16_agrees_with_torch_on_real_comments(agrees_with_fp32):
    """Acceptance: labels agree on >= 99.5% and |delta p_spam| <= 0.02 on >= 99%."""
    agrees_with_fp32("torch-bf16")
