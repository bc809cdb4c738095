"""Fine-tune the real packaged MiniLM on a small real sample and beat chance on an unseen
video. Slow (~1 minute on 2 CPUs) and needs ../shared/datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.data]
REPO = Path(__file__).resolve().parents[2]


def test_lora_on_real_sample_beats_chance_on_held_out_video(datasets_dir: Path, tmp_path: Path):
    from pipeline.model import Classifier
    from training.config import load_train_config
    from training.data import load_examples
    from training.evaluate import evaluate_frame
    from training.export import export_artifact
    from training.fit import fit
    from training.train import training_fields

    files = sorted((datasets_dir / "youtube-spam-collection").glob("Youtube0*.csv"))
    examples, report = load_examples(files)
    video = examples["group"].str.split(":").str[-1]
    train = examples[video.isin(["Youtube01-Psy", "Youtube02-KatyPerry", "Youtube03-LMFAO"])]
    train = train.sample(n=320, random_state=0)
    val = examples[video == "Youtube04-Eminem"].sample(n=120, random_state=0)
    test = examples[video == "Youtube05-Shakira"]
    cfg = load_train_config(REPO / "configs" / "smoke.toml")

    fitted = fit(cfg, train, val)
    manifest = {**fitted.manifest, **training_fields(cfg, report, len(train), len(val))}
    model_dir = export_artifact(tmp_path / "m", fitted.network, fitted.tokenizer, manifest)
    result = evaluate_frame(Classifier.from_pretrained(model_dir), test)

    assert result["roc_auc"] > 0.85, result
    assert result["f1"] > 0.7, result
    size = sum(p.stat().st_size for p in model_dir.iterdir())
    assert size <= 10 * 2**20, f"model dir is {size / 2**20:.1f} MB"
    assert np.isfinite(manifest["calibration"]["temperature"])
