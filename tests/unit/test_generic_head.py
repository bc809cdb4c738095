"""A two-head model dir (p_spam + p_generic over one encoder): one forward pass gives both
scores, on the torch and the ONNX backend, and scored files carry them with the verdict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.model import Classifier, calibrated

TEXTS = ["Amazing content [emoji fire]", "what flour did you use?", "", "DM me to earn 5k", "wow"]
GENERIC_HEAD = {"logits": [2, 3], "positive": 1, "label": "generic", "temperature": 0.8}


@pytest.fixture(scope="module")
def two_head_dir(tiny_base, tiny_fitted, tiny_cfg, tmp_path_factory) -> Path:
    """The tiny model with a second, randomly initialised head: four logit columns."""
    import torch

    from pipeline.network import HEAD, base_network
    from training.export import export_artifact
    from training.train import training_fields

    torch.manual_seed(1)
    network = base_network(tiny_base, num_labels=4)
    heads = {**tiny_fitted.manifest["heads"], "p_generic": GENERIC_HEAD}
    manifest = {**tiny_fitted.manifest, "heads": heads,
                "weights": {"kind": "full", "head": HEAD, "format": "safetensors"},
                **training_fields(tiny_cfg, {"files": []}, 40, 8)}  # fmt: skip
    target = tmp_path_factory.mktemp("two_head") / "model"
    return export_artifact(target, network, tiny_fitted.tokenizer, manifest)


def test_one_forward_pass_gives_both_heads(two_head_dir):
    model = Classifier.from_pretrained(two_head_dir)
    calls = []
    forward = model.network.forward
    model.network.forward = lambda *a, **k: calls.append(1) or forward(*a, **k)
    scores = model.score_clean(TEXTS, batch_size=len(TEXTS))
    assert set(scores) == {"p_spam", "p_generic"} and len(calls) == 1
    logits = model.logits_clean(TEXTS)
    assert logits.shape == (len(TEXTS), 4)
    np.testing.assert_allclose(scores["p_generic"], calibrated(logits[:, 2:], 0.8), atol=1e-6)
    spam_t = model.manifest["calibration"]["temperature"]
    np.testing.assert_allclose(scores["p_spam"], calibrated(logits[:, :2], spam_t), atol=1e-6)


def test_calibrated_is_a_temperature_scaled_softmax():
    logits = [[0.0, np.log(3.0)]]  # softmax [1/4, 3/4]
    np.testing.assert_allclose(calibrated(logits, 1.0), [0.75])
    np.testing.assert_allclose(calibrated(logits, 2.0), [np.sqrt(3) / (1 + np.sqrt(3))])
    np.testing.assert_allclose(calibrated(logits, 1.0, positive=0), [0.25])


def test_onnx_output_carries_both_heads(two_head_dir, tmp_path):
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")
    import shutil

    from pipeline.backends import OnnxClassifier

    copy = Path(shutil.copytree(two_head_dir, tmp_path / "model"))
    onnx = OnnxClassifier.from_pretrained(copy, precision="fp32")
    torch_scores = Classifier.from_pretrained(copy).score_clean(TEXTS)
    scores = onnx.score_clean(TEXTS)
    assert onnx.model.get_outputs()[0].shape[1] == 4
    assert json.loads((copy / "onnx" / "meta.json").read_text())["n_logits"] == 4
    for head in ("p_spam", "p_generic"):
        np.testing.assert_allclose(scores[head], torch_scores[head], atol=1e-4)


def test_scored_file_carries_p_generic_and_the_verdict(two_head_dir, tmp_path):
    from pipeline.score import score_file

    src = tmp_path / "in.jsonl"
    rows = [{"text": t or "ok", "post_id": f"p{i % 2}", "author": f"a{i}"}
            for i, t in enumerate(TEXTS)]  # fmt: skip
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scored.parquet"
    model = Classifier.from_pretrained(two_head_dir)
    # At the median p_spam both labels occur, so the spam and the non-spam rules both run.
    p_spam = model.predict_proba([r["text"] for r in rows])[:, 1]
    model.manifest = {**model.manifest, "threshold": float(np.median(p_spam))}
    score_file(src, out, model)
    scored = pd.read_parquet(out)
    assert {"p_spam", "p_generic", "verdict", "verdict_reason"} <= set(scored.columns)
    assert scored["p_generic"].between(0, 1).all()
    assert set(scored["verdict"]) <= {"spam", "coordinated generic", "generic", "genuine"}
    spam = scored["pred_label"] == "spam"
    assert 0 < spam.sum() < len(scored)
    # pipeline.verdict: the classifier's flag wins; otherwise generic text (p_generic >= 0.5,
    # the default generic_threshold) is generic or coordinated, and the rest is genuine.
    generic = scored["p_generic"] >= 0.5
    verdicts, reasons = scored["verdict"], scored["verdict_reason"]
    assert (verdicts[spam] == "spam").all() and not (verdicts[~spam] == "spam").any()
    assert reasons[spam].str.startswith("spam classifier: p_spam ").all()
    assert verdicts[~spam & generic].isin(["generic", "coordinated generic"]).all()
    assert (verdicts[~spam & ~generic] == "genuine").all()
    assert (reasons[~spam & ~generic] == "").all()
