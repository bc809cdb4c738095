"""Batch scoring: stream an export through the readers, the cleaning stage and the model.

Each chunk is cleaned, its distinct dedup keys not seen before are scored once, and the
scored chunk is written as a checkpoint part. When every chunk is done, export-wide
coordination signals are computed over all parts and the final file is written atomically.
A killed run restarts with ``resume=True``: finished parts are kept, the dedup cache is
rebuilt from them, and the output is byte-identical to an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from pipeline import clean as cleaning
from pipeline import io, signals

STATE_FILE = "state.json"


class Scorer(Protocol):
    """What the batch scorer needs from a model (see pipeline.model.Classifier)."""

    threshold: float
    manifest: dict

    def score_clean(self, texts: list[str]) -> dict[str, np.ndarray]: ...


@dataclass(frozen=True)
class ScoreConfig:
    chunk_size: int = 20_000
    batch_size: int = 64
    signals: signals.SignalsConfig = dataclasses.field(default_factory=signals.SignalsConfig)

    def __post_init__(self) -> None:
        if self.chunk_size < 1 or self.batch_size < 1:
            raise ValueError("score.chunk_size and score.batch_size must be >= 1")


@dataclass
class ScoreSummary:
    rows_in: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    distinct_keys: int = 0
    texts_scored: int = 0  # forward-pass inputs: one per distinct dedup key
    resumed_chunks: int = 0


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Canonical rows -> the same rows with the model text, dedup key and features."""
    results = cleaning.clean_many(frame["text"].tolist())
    out = frame.copy()
    out["clean_text"] = pd.array([r.text for r in results], dtype="string")
    out["dedup_key"] = pd.array([r.dedup_key for r in results], dtype="string")
    feats = pd.DataFrame([dataclasses.asdict(r.features) for r in results], index=frame.index)
    return pd.concat([out, feats], axis=1)


class KeyCache:
    """dedup key -> head scores, so a repeated comment never costs a second forward pass."""

    def __init__(self) -> None:
        self.scores: dict[str, dict[str, float]] = {}
        self.texts_scored = 0

    def fill(self, frame: pd.DataFrame, scorer: Scorer) -> None:
        new = frame.drop_duplicates("dedup_key")
        new = new[~new["dedup_key"].isin(self.scores.keys())]
        if new.empty:
            return
        heads = scorer.score_clean(new["clean_text"].tolist())
        self.texts_scored += len(new)
        for i, key in enumerate(new["dedup_key"].tolist()):
            self.scores[key] = {name: float(values[i]) for name, values in heads.items()}

    def remember(self, frame: pd.DataFrame, heads: list[str]) -> None:
        for row in frame[["dedup_key", *heads]].itertuples(index=False):
            self.scores.setdefault(row[0], dict(zip(heads, row[1:], strict=True)))

    def apply(self, frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
        out = frame.copy()
        first = next(iter(self.scores.values()), {"p_spam": 0.0})
        for head in first:
            out[head] = [self.scores[k][head] for k in frame["dedup_key"].tolist()]
        out["pred_label"] = np.where(out["p_spam"] >= threshold, "spam", "genuine")
        return out


class Checkpoint:
    """A directory of finished parts plus a state file that says which run they belong to."""

    def __init__(self, output: Path, fingerprint: str) -> None:
        self.dir = output.with_name(output.name + ".parts")
        self.fingerprint = fingerprint

    def start(self, resume: bool) -> int:
        """Number of chunks already done (0 on a fresh start)."""
        state = self._state()
        if resume and state and state.get("fingerprint") == self.fingerprint:
            return int(state["chunks_done"])
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self._save(0)
        return 0

    def part(self, index: int) -> Path:
        return self.dir / f"part-{index:06d}.parquet"

    def commit(self, index: int, frame: pd.DataFrame) -> None:
        io.write_table([frame], self.part(index))
        self._save(index + 1)

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _state(self) -> dict | None:
        path = self.dir / STATE_FILE
        return json.loads(path.read_text()) if path.exists() else None

    def _save(self, chunks_done: int) -> None:
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "chunks_done": chunks_done}))
        tmp.replace(self.dir / STATE_FILE)


def run_fingerprint(input_path: str | Path, scorer: Scorer, config: ScoreConfig, mapping) -> str:
    """Identifies a run: a checkpoint from another input, model or config is never reused."""
    path = Path(input_path)
    stat = path.stat() if path.exists() else None
    parts = [
        str(path.resolve()) if stat else str(input_path),
        str(stat.st_size if stat else ""),
        str(stat.st_mtime_ns if stat else ""),
        json.dumps(scorer.manifest.get("files", {}), sort_keys=True),
        cleaning.CLEANING_VERSION,
        json.dumps(dataclasses.asdict(config), sort_keys=True, default=str),
        json.dumps(mapping or {}, sort_keys=True),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def score_chunks(
    chunks: Iterator[pd.DataFrame],
    scorer: Scorer,
    checkpoint: Checkpoint,
    done: int,
    summary: ScoreSummary,
    on_rows: Callable[[int], None] = lambda n: None,
) -> None:
    """Score every chunk after the first `done`, committing each as a part."""
    cache = KeyCache()
    for path in checkpoint.parts()[:done]:
        cache.remember(pd.read_parquet(path), ["p_spam"])
    for index, chunk in enumerate(chunks):
        summary.rows_scored += len(chunk)
        if index < done:
            summary.resumed_chunks += 1
        else:
            frame = clean_frame(chunk)
            cache.fill(frame, scorer)
            checkpoint.commit(index, cache.apply(frame, scorer.threshold))
        on_rows(len(chunk))
    summary.texts_scored = cache.texts_scored
    summary.distinct_keys = len(cache.scores)


def finish(checkpoint: Checkpoint, output: Path, config: signals.SignalsConfig) -> int:
    """Export-wide signals over all parts, then the final file, written atomically."""
    parts = checkpoint.parts()
    cols = signals.INPUT_COLUMNS
    frames = [pd.read_parquet(p, columns=cols) for p in parts]
    base = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    extra = signals.add_signals(base, config).drop(columns=cols)
    return io.write_table(_joined(parts, extra), output)


def _joined(parts: list[Path], extra: pd.DataFrame) -> Iterator[pd.DataFrame]:
    start = 0
    for path in parts:
        frame = pd.read_parquet(path)
        sig = extra.iloc[start : start + len(frame)].set_index(frame.index)
        start += len(frame)
        out = pd.concat([frame, sig], axis=1)
        out["reasons"] = signals.reasons_for(out)
        yield out


def score_file(
    input_path: str | Path,
    output: str | Path,
    scorer: Scorer,
    *,
    config: ScoreConfig = ScoreConfig(),
    mapping: dict[str, str] | None = None,
    rejects: io.RejectSink | None = None,
    resume: bool = False,
    on_rows: Callable[[int], None] = lambda n: None,
) -> ScoreSummary:
    """Score one export into `output` (.parquet, .csv or .jsonl); see the module docstring."""
    output = Path(output)
    rejects = rejects if rejects is not None else io.RejectSink()
    checkpoint = Checkpoint(output, run_fingerprint(input_path, scorer, config, mapping))
    done = checkpoint.start(resume)
    summary = ScoreSummary()
    chunks = io.read_chunks(
        input_path, mapping=mapping, chunk_size=config.chunk_size, rejects=rejects
    )
    score_chunks(chunks, scorer, checkpoint, done, summary, on_rows)
    finish(checkpoint, output, config.signals)
    checkpoint.remove()
    summary.rows_rejected = rejects.count
    summary.rows_in = summary.rows_scored + summary.rows_rejected
    return summary
