"""The model artifact: save/load round trip and every refusal of an untrustworthy dir."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.artifact import FORMAT_VERSION, MANIFEST, ModelError, sha256_file
from pipeline.model import Classifier
from pipeline.tokens import load_hf_tokenizer

MANIFEST_KEYS = {
    "format_version",
    "labels",
    "heads",
    "threshold",
    "calibration",
    "error_rates",
    "cleaning_version",
    "base_model",
    "weights",
    "max_length",
    "training",
    "metrics",
    "created_at",
    "files",
}


def texts() -> list[str]:
    spam = [f"check out my channel {i}" for i in range(8)]
    return (
        spam
        + [f"love this song {i}" for i in range(8)]
        + ["", "wow", "Love\u2764\ufe0f", "x " * 500]
    )


def rewrite_manifest(model_dir: Path, **changes) -> None:
    path = model_dir / MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_reload_gives_identical_predictions(tiny_model_dir, tiny_fitted):
    first = Classifier.from_pretrained(tiny_model_dir).predict_proba(texts())
    again = Classifier.from_pretrained(tiny_model_dir).predict_proba(texts())
    assert np.array_equal(first, again)
    # The in-memory model merged the same way scores exactly like the reloaded one.
    in_memory = tiny_fitted.classifier()
    trained = in_memory.predict_proba(texts())
    np.testing.assert_allclose(trained, first, atol=1e-6)


def test_manifest_is_complete(tiny_model_dir):
    manifest = json.loads((tiny_model_dir / MANIFEST).read_text())
    assert set(manifest) >= MANIFEST_KEYS
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["labels"] == ["genuine", "spam"]
    assert manifest["weights"]["kind"] == "lora"
    assert manifest["calibration"]["method"] == "temperature"
    assert set(manifest["error_rates"]) >= {"sensitivity", "specificity", "n_pos", "n_neg"}
    assert set(manifest["base_model"]) == {"id", "source", "sha256"}
    # onnx/ is the derived ONNX export cache (pipeline.onnx_export), not part of the artifact.
    on_disk = {p.name for p in tiny_model_dir.iterdir()} - {MANIFEST, "onnx"}
    assert set(manifest["files"]) == on_disk
    assert {"adapter_model.safetensors", "tokenizer.json", "README.md"} <= on_disk
    for name, digest in manifest["files"].items():
        assert sha256_file(tiny_model_dir / name) == digest


def test_predict_uses_threshold_and_label_names(tiny_model_dir):
    model = Classifier.from_pretrained(tiny_model_dir)
    proba = model.predict_proba(texts())
    assert proba.shape == (len(texts()), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    # At the median p_spam both labels occur, so a swapped label or a fixed 0.5 would fail.
    median = float(np.median(proba[:, 1]))
    model.manifest = {**model.manifest, "threshold": median}
    labels = list(model.predict(texts()))
    assert {"spam", "genuine"} <= set(labels)
    assert labels == list(np.where(proba[:, 1] >= median, "spam", "genuine"))
    model.manifest = {**model.manifest, "threshold": float(proba[:, 1].max()) + 1e-6}
    assert list(model.predict(texts())) == ["genuine"] * len(texts())


def test_score_clean_matches_predict_proba_and_input_order(tiny_model_dir):
    from pipeline.clean import clean_many

    model = Classifier.from_pretrained(tiny_model_dir)
    cleaned = [c.text for c in clean_many(texts())]
    scores = model.score_clean(cleaned, batch_size=3)
    np.testing.assert_allclose(scores["p_spam"], model.predict_proba(texts())[:, 1], atol=1e-6)
    reversed_scores = model.score_clean(cleaned[::-1], batch_size=5)["p_spam"][::-1]
    np.testing.assert_allclose(reversed_scores, scores["p_spam"], atol=1e-6)
    assert model.score_clean([])["p_spam"].shape == (0,)
    ids = model.encode(cleaned)
    hf = load_hf_tokenizer(tiny_model_dir)  # what training tokenises with
    assert ids == hf(cleaned, truncation=True, max_length=model.max_length)["input_ids"]
    np.testing.assert_array_equal(model.score_ids(ids, 3)["p_spam"], scores["p_spam"])


def test_full_kind_round_trip(make_config, toy_frame, tmp_path):
    from training.export import export_artifact
    from training.fit import fit
    from training.train import training_fields

    cfg = make_config(kind="full")
    frame = toy_frame
    fitted = fit(cfg, frame[frame["group"] != "post:0"], frame[frame["group"] == "post:0"])
    manifest = {**fitted.manifest, **training_fields(cfg, {"files": []}, 36, 12)}
    target = export_artifact(tmp_path / "full", fitted.network, fitted.tokenizer, manifest)
    assert (target / "model.safetensors").is_file()
    loaded = Classifier.from_pretrained(target)
    np.testing.assert_allclose(
        loaded.predict_proba(texts()), fitted.classifier().predict_proba(texts()), atol=1e-6
    )


@pytest.mark.parametrize("kind", ["lora", "full"])
def test_student_keeps_only_its_layers_and_reloads_them(make_config, toy_frame, tmp_path, kind):
    from training.export import export_artifact
    from training.fit import fit
    from training.train import training_fields

    cfg = make_config(kind=kind, overrides=["model.layers=[1]"])  # the tiny base has 2
    frame = toy_frame
    fitted = fit(cfg, frame[frame["group"] != "post:0"], frame[frame["group"] == "post:0"])
    manifest = {**fitted.manifest, **training_fields(cfg, {"files": []}, 36, 12)}
    target = export_artifact(tmp_path / kind, fitted.network, fitted.tokenizer, manifest)
    assert json.loads((target / MANIFEST).read_text())["base_model"]["layers"] == [1]
    loaded = Classifier.from_pretrained(target)
    assert len(loaded.network.encoder.encoder.layer) == 1
    np.testing.assert_allclose(
        loaded.predict_proba(texts()), fitted.classifier().predict_proba(texts()), atol=1e-6
    )


def test_student_layers_must_exist_in_the_base(make_config, toy_frame):
    from training.fit import fit

    cfg = make_config(overrides=["model.layers=[0, 5]"])
    with pytest.raises(ModelError, match=r"model.layers \[0, 5\]: the base has only 2 layers"):
        fit(cfg, toy_frame, toy_frame)


def test_never_overwrites(tiny_model_dir, tiny_fitted):
    from training.export import export_artifact

    with pytest.raises(ModelError, match="already exists"):
        export_artifact(tiny_model_dir, tiny_fitted.network, tiny_fitted.tokenizer, {})


def test_refuses_missing_weights(model_copy):
    (model_copy / "adapter_model.safetensors").unlink()
    with pytest.raises(ModelError, match="adapter_model.safetensors.*missing"):
        Classifier.from_pretrained(model_copy)


def test_refuses_tampered_weights(model_copy):
    path = model_copy / "adapter_model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="adapter_model.safetensors does not match its sha256"):
        Classifier.from_pretrained(model_copy)


@pytest.mark.parametrize("name", ["pytorch_model.bin", "head.pt", "extra/state.pkl"])
def test_refuses_pickle_files(model_copy, name):
    path = model_copy / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"\x80\x04K\x01.")
    with pytest.raises(ModelError, match="pickle"):
        Classifier.from_pretrained(model_copy)


def test_refuses_unlisted_file(model_copy):
    (model_copy / "added_tokens.json").write_text("{}")
    with pytest.raises(ModelError, match="not in the manifest: added_tokens.json"):
        Classifier.from_pretrained(model_copy)


def test_refuses_labels_in_another_order(model_copy):
    # predict_proba's columns are genuine, spam: a swapped list would swap every score.
    rewrite_manifest(model_copy, labels=["spam", "genuine"])
    with pytest.raises(ModelError, match=r"labels \['spam', 'genuine'\]"):
        Classifier.from_pretrained(model_copy)


def test_refuses_unknown_format_version(model_copy):
    rewrite_manifest(model_copy, format_version=99)
    with pytest.raises(ModelError, match="format_version 99 is not supported"):
        Classifier.from_pretrained(model_copy)


def test_refuses_remote_code_config(model_copy):
    path = model_copy / "adapter_config.json"
    config = json.loads(path.read_text())
    config["auto_map"] = {"AutoModel": "evil.Model"}
    path.write_text(json.dumps(config))
    files = json.loads((model_copy / MANIFEST).read_text())["files"]
    # Even with a matching hash (an attacker can rewrite the manifest) remote code is refused.
    rewrite_manifest(model_copy, files={**files, "adapter_config.json": sha256_file(path)})
    with pytest.raises(ModelError, match="auto_map"):
        Classifier.from_pretrained(model_copy)


def test_refuses_unknown_head(model_copy):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    manifest["weights"]["head"] = "cls_pooler"
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="unknown head 'cls_pooler'"):
        Classifier.from_pretrained(model_copy)


def test_refuses_other_base_weights(model_copy, tiny_base):
    manifest = json.loads((model_copy / MANIFEST).read_text())
    manifest["base_model"]["sha256"] = "0" * 64
    (model_copy / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="base encoder .* sha256"):
        Classifier.from_pretrained(model_copy)


def test_refuses_non_model_dir(tmp_path):
    with pytest.raises(ModelError, match="no manifest.json"):
        Classifier.from_pretrained(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        Classifier.from_pretrained(tmp_path / "absent")
