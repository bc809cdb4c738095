"""The ONNX Runtime backend: export cache, agreement with torch, same interface."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnxruntime", reason="the onnx extra is not installed")

from pipeline import onnx_export  # noqa: E402
from pipeline.artifact import ModelError, verify_dir  # noqa: E402
from pipeline.backends import OnnxClassifier, load_classifier  # noqa: E402
from pipeline.model import Classifier  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TEXTS = [
    "check out my channel for free music [url]",
    "love this song",
    "",
    "DM @crypto_guru to earn $5k a week",
    "wow",
    "word " * 200,  # longer than max_length: truncated the same way on both backends
]


def test_fp32_export_matches_torch(model_dir, torch_model):
    onnx = OnnxClassifier.from_pretrained(model_dir, precision="fp32")
    np.testing.assert_allclose(onnx.logits_clean(TEXTS), torch_model.logits_clean(TEXTS), atol=1e-4)
    np.testing.assert_allclose(
        onnx.score_clean(TEXTS)["p_spam"], torch_model.score_clean(TEXTS)["p_spam"], atol=1e-4
    )


def test_int8_has_every_head_and_the_same_interface(model_dir, torch_model):
    onnx = load_classifier(model_dir, "onnx")
    scores = onnx.score_clean(TEXTS, batch_size=2)
    assert set(scores) == set(torch_model.manifest["heads"])
    assert scores["p_spam"].shape == (len(TEXTS),)
    assert onnx.logits_clean(TEXTS).shape == torch_model.logits_clean(TEXTS).shape
    assert onnx.score_clean([])["p_spam"].shape == (0,)
    assert onnx.threshold == torch_model.threshold
    # At the median p_spam both labels occur, so a swapped label or a fixed 0.5 would fail.
    p_spam = onnx.predict_proba(TEXTS)[:, 1]
    onnx.manifest = {**onnx.manifest, "threshold": float(np.median(p_spam))}
    labels = onnx.predict(TEXTS).tolist()
    assert labels == np.where(p_spam >= np.median(p_spam), "spam", "genuine").tolist()
    assert {"spam", "genuine"} <= set(labels)


def test_cache_lives_in_the_model_dir_and_is_reused(model_dir):
    load_classifier(model_dir, "onnx")
    meta = json.loads((model_dir / "onnx" / "meta.json").read_text())
    assert set(meta["files"]) == set(onnx_export.FILES.values())
    assert meta["n_logits"] == 2
    verify_dir(model_dir)  # the cache is not an unlisted file of the model
    stamp = (model_dir / "onnx" / "model.int8.onnx").stat().st_mtime_ns
    load_classifier(model_dir, "onnx")
    assert (model_dir / "onnx" / "model.int8.onnx").stat().st_mtime_ns == stamp


def test_a_cached_graph_loads_and_scores_without_torch_or_transformers(model_dir, tmp_path):
    """The graph backends load without torch or transformers (~2-4 s of imports a process);
    scoring imports no transformers (spaCy's thinc probes for torch when cleaning starts)."""
    load_classifier(model_dir, "onnx")  # builds the cache, with torch, in this process
    export = tmp_path / "export.csv"
    texts = [t for t in TEXTS if t]
    pd.DataFrame({"text": texts, "author": range(len(texts))}).to_csv(export, index=False)
    heavy = "{'torch', 'transformers', 'peft'}"
    code = (
        "import sys; from pipeline.backends import load_classifier; from pipeline.score import"
        f" score_file; m = load_classifier({str(model_dir)!r}, 'onnx');"
        f" print(sorted({heavy} & set(sys.modules)));"
        f" score_file({str(export)!r}, {str(tmp_path / 'out.parquet')!r}, m);"
        f" print(sorted({heavy} - {{'torch'}} & set(sys.modules)))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["[]", "[]"]
    assert len(pd.read_parquet(tmp_path / "out.parquet")) == len(texts)


@pytest.mark.parametrize("damage", ["tamper", "stale"])
def test_damaged_or_stale_cache_is_rebuilt(model_copy, damage):
    first = onnx_export.ensure_onnx(model_copy)
    meta_path = model_copy / "onnx" / "meta.json"
    good, meta = first.read_bytes(), json.loads(meta_path.read_text())
    if damage == "tamper":
        with first.open("ab") as f:
            f.write(b"\0")
    else:  # exported from other weights
        meta_path.write_text(json.dumps({**meta, "source": "0" * 64}))
    again = onnx_export.ensure_onnx(model_copy)
    assert onnx_export.cached_model(model_copy / "onnx", verify_dir(model_copy), "int8") == again
    # Rebuilt, not returned as found (the check does not rely on exports being reproducible).
    assert again.read_bytes() != good + b"\0"
    assert json.loads(meta_path.read_text())["source"] == meta["source"] != "0" * 64
    assert not list(model_copy.glob(".onnx.*"))  # no staging dirs left behind


def int8_weight_range(graph: Path) -> int:
    """The largest |value| among the graph's int8 weights."""
    import onnx
    from onnx import numpy_helper

    tensors = onnx.load(str(graph)).graph.initializer
    int8 = [numpy_helper.to_array(t) for t in tensors if t.data_type == onnx.TensorProto.INT8]
    return int(max(np.abs(w.astype(np.int16)).max() for w in int8))


def test_int8_weight_range_follows_the_cpu(model_copy, monkeypatch):
    # Without VNNI the 16-bit pair sums saturate at 8 bits; with it, 7 bits only lose accuracy.
    monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert int8_weight_range(onnx_export.ensure_onnx(model_copy)) <= 64
    monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda: frozenset({"avx2", "avx512_vnni"}))
    # A graph quantised for the other kind of CPU is stale here, and rebuilt.
    assert onnx_export.cached_model(model_copy / "onnx", verify_dir(model_copy), "int8") is None
    assert int8_weight_range(onnx_export.ensure_onnx(model_copy)) == 127
    meta = json.loads((model_copy / "onnx" / "meta.json").read_text())
    assert meta["recipe"]["int8_bits"] == 8


def test_backend_choice(model_dir, monkeypatch):
    # Without AMX the fastest installed backend is ONNX int8 (with it, torch bf16).
    monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda: frozenset({"avx512f", "avx512_vnni"}))
    assert isinstance(load_classifier(model_dir), OnnxClassifier)
    assert type(load_classifier(model_dir, "torch")) is Classifier
    with pytest.raises(ModelError, match="unknown backend"):
        load_classifier(model_dir, "tensorflow")


@pytest.mark.data
def test_int8_agrees_with_torch_on_real_comments(agrees_with_fp32):
    """Acceptance: labels agree on >= 99.5% and |delta p_spam| <= 0.02 on >= 99%."""
    agrees_with_fp32("onnx")


def test_cli_export_then_score_on_both_backends(model_dir, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    def invoke(*args):
        return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)

    result = invoke("export", "--model", model_dir, "--force")
    assert result.exit_code == 0 and "model.int8.onnx" in result.output
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t, "post_id": "p"}) + "\n" for t in TEXTS if t))
    scores = {}
    for backend in ("torch", "onnx"):
        out = tmp_path / f"{backend}.parquet"
        args = ("score", src, "-o", out, "--model", model_dir, "--backend", backend)
        assert invoke(*args, "--no-progress").exit_code == 0
        scores[backend] = pd.read_parquet(out)["p_spam"].to_numpy()
    np.testing.assert_allclose(scores["onnx"], scores["torch"], atol=0.05)  # int8 vs fp32
    bad = invoke("score", src, "-o", tmp_path / "x.parquet", "--engine", "spark")
    assert bad.exit_code == 2 and "choose local or ray" in bad.output


def test_student_exports_with_only_its_layers(make_config, toy_frame, tmp_path):
    from training.export import export_artifact
    from training.fit import fit
    from training.train import training_fields

    cfg = make_config(overrides=["model.layers=[1]"])
    train, val = (
        toy_frame[toy_frame["group"] != "post:0"],
        toy_frame[toy_frame["group"] == "post:0"],
    )
    fitted = fit(cfg, train, val)
    manifest = {**fitted.manifest, **training_fields(cfg, {"files": []}, 36, 12)}
    student = export_artifact(tmp_path / "student", fitted.network, fitted.tokenizer, manifest)
    onnx = OnnxClassifier.from_pretrained(student, precision="fp32")
    expected = Classifier.from_pretrained(student).logits_clean(TEXTS)
    np.testing.assert_allclose(onnx.logits_clean(TEXTS), expected, atol=1e-4)


def test_the_run_fingerprint_names_the_int8_weight_range(model_dir, monkeypatch):
    from pipeline.score import ScoreConfig, run_fingerprint

    onnx = OnnxClassifier.from_pretrained(model_dir)
    prints = []
    for flags in ({"avx2"}, {"avx2", "avx512_vnni"}):
        monkeypatch.setattr("pipeline.cpu.cpu_flags", lambda flags=flags: frozenset(flags))
        prints.append(run_fingerprint("-", onnx, ScoreConfig(), None))
    assert onnx.engine.endswith("/8bit") and prints[0] != prints[1]
