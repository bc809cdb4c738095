"""The protocol runner on small synthetic copies of the two datasets, with the TF-IDF model
(seconds): folds by video and by owner, results cached, a rerun served from the cache."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from training import protocols
from training.prevalence import prevalence_fields

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "train.toml"
SPAM = ["check out my channel http://spam{}.example now", "subscribe to me for free gift {}"]
GENUINE = ["this song brings back memories {}", "her voice is amazing in verse {}"]


def texts(n: int, seed: int) -> list[tuple[str, int]]:
    words = ["alpha", "bravo", "delta", "echo", "golf", "hotel", "india", "kilo"]
    out = []
    for i in range(n):
        tag = f"{words[(i + seed) % 8]} {words[(i * 3 + seed) % 8]} {seed * 100 + i}"
        kind = SPAM if i % 3 == 0 else GENUINE
        out.append((kind[i % 2].format(tag), int(kind is SPAM)))
    return out


def datasets(root: Path) -> Path:
    videos = root / "youtube-spam-collection"
    videos.mkdir(parents=True)
    for v in range(1, 6):
        with (videos / f"Youtube0{v}-Video{v}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"])
            for i, (text, y) in enumerate(texts(36, v)):
                writer.writerow([f"v{v}c{i}", f"a{i}", "", text, y])
    owners = root / "scamspot-instagram"
    owners.mkdir()
    with (owners / "comments.jsonl").open("w") as f:
        for o in range(10):
            for i, (text, y) in enumerate(texts(30, 10 + o)):
                record = {"comment_id": f"o{o}c{i}", "post_id": f"p{o}", "post_owner": f"own{o}",
                          "text": text, "label": "spam" if y else "genuine"}  # fmt: skip
                f.write(json.dumps(record) + "\n")
    return root


def test_runs_folds_caches_them_and_serves_a_rerun_from_the_cache(tmp_path, monkeypatch):
    data = protocols.load_datasets(datasets(tmp_path / "datasets"))
    assert len(data["youtube"]) == 5 * 36 and data["youtube"]["group"].nunique() == 5
    runs = tmp_path / "runs"
    args = (data, CONFIG, [], ["uci_lovo", "scamspot_grouped"], ["tfidf"], runs)
    first = protocols.run_protocols(*args)
    assert [f["fold"] for f in first["uci_lovo"]["tfidf"]] == [f"Youtube0{v}-Video{v}" for v in
                                                               range(1, 6)]  # fmt: skip
    assert len(first["scamspot_grouped"]["tfidf"]) == 5
    for fold in first["scamspot_grouped"]["tfidf"]:
        assert fold["roc_auc"] > 0.95  # the two kinds of text share only the filler words
    assert len(list(runs.glob("*/*/tfidf/*.json"))) == 10
    # The scripts that read the caches find the same directory from the recipe's name.
    cache = protocols.recipe_cache(runs, CONFIG, "scamspot_grouped", "tfidf")
    assert sorted(p.stem for p in cache.glob("*.json")) == [f"fold{k}" for k in range(1, 6)]
    assert not protocols.recipe_cache(runs, CONFIG, "scamspot_grouped", "tfidf", seed=99).exists()

    def no_training(*_):
        raise AssertionError("a cached fold was trained again")

    monkeypatch.setattr(protocols, "run_fold", no_training)
    assert protocols.run_protocols(*args) == first
    assert protocols.run_protocols(*args[:4], ["lora"], runs, cached_only=True) == {}
    rates = prevalence_fields(first, "tfidf")
    n_spam = sum(f["n_spam"] for p in first.values() for f in p["tfidf"])
    assert rates["threshold"] == 0.5 and rates["error_rates"]["n_pos"] == n_spam


def test_unknown_model_is_refused(tmp_path):
    with pytest.raises(KeyError):
        protocols.run_protocols({}, CONFIG, [], ["uci_lovo"], ["bert-xl"], tmp_path)
