"""Train the shipped model, models/default, on both labelled datasets with configs/train.toml.

    nice .venv/bin/python scripts/train_default.py [--datasets ../shared/datasets]
        [--out models/default] [section.key=value ...]

The data is read in place (never copied into the repository); its paths are recorded
relative to the repository root, with sha256s, in the model's manifest. An existing model
directory is never overwritten: move it away first (git keeps the old one).
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from training.config import load_train_config  # noqa: E402
from training.train import run_training  # noqa: E402


def dataset_files(datasets: Path) -> list[str]:
    """Both datasets' files, as paths relative to the repository root."""
    files = sorted((datasets / "youtube-spam-collection").glob("Youtube0*.csv"))
    files.append(datasets / "scamspot-instagram" / "comments.jsonl")
    missing = [f for f in files if not f.is_file()]
    if len(files) < 6 or missing:
        raise SystemExit(f"labelled datasets not found under {datasets} (see its README.md)")
    return [os.path.relpath(f.resolve(), REPO) for f in files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "train.toml")
    parser.add_argument("--out", type=Path, default=REPO / "models" / "default")
    parser.add_argument("overrides", nargs="*", help="config overrides, e.g. train.epochs=4")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.chdir(REPO)  # recorded data paths are relative to the repository root
    cfg = load_train_config(args.config, args.overrides)
    started, cpu_started = time.perf_counter(), time.process_time()
    model = run_training(cfg, dataset_files(args.datasets), args.out)
    minutes = (time.perf_counter() - started) / 60
    cpu_minutes = (time.process_time() - cpu_started) / 60
    metrics = model.manifest["metrics"]["validation"]
    # CPU time tells a run slowed by other processes apart from a slow run.
    print(
        f"trained {args.out} in {minutes:.1f} min wall, {cpu_minutes:.1f} min CPU,"
        f" {len(os.sched_getaffinity(0))} usable CPUs"
    )
    print(f"validation F1 {metrics['f1']:.4f}, threshold {model.threshold:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
