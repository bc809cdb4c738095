"""Ray Data engine: the batch scorer as an actor pool, on all local cores or on a cluster.

The driver reads the export with the project's readers (so the canonical schema, the column
mapping and the rejects are exactly the local engine's) and hands each chunk to Ray. A pool
of `ScoreActor`s, each holding one loaded classifier, cleans a chunk, scores each distinct
text of it once and returns the scored rows. The driver collects the scored chunks in input
order, computes the export-wide signals over all of them as the local engine does, and
writes a directory of Parquet parts, staged and renamed into place. No resume: a failed run
is simply run again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import io
from pipeline.dedup import KeyCache, cache_digests, clean_frame
from pipeline.score import ScoreConfig, ScoreSummary, signal_frames

CPUS_PER_ACTOR = 2  # ORT scales well to 2 threads per process; more actors beyond that
DEFAULT_CONFIG = ScoreConfig()


class ScoreActor:
    """One loaded classifier; called with a chunk of canonical rows, returns them scored."""

    def __init__(
        self, model: str, backend: str | None, threads: int, batch_size: int | None = None
    ) -> None:
        from pipeline.backends import load_classifier

        self.scorer = load_classifier(model, backend, threads=threads)
        self.batch_size = batch_size

    def __call__(self, chunk: pd.DataFrame) -> pd.DataFrame:
        frame = clean_frame(chunk)
        # Per chunk: the local engine's dedup without cross-actor state (_write_parts then
        # gives each key the scores of its first chunk).
        cache = KeyCache(self.batch_size)
        cache.fill(frame, self.scorer)
        return cache.apply(frame, self.scorer.threshold)


def score_ray(
    input_path: str | Path,
    output: str | Path,
    model: str | Path,
    *,
    backend: str | None = None,
    config: ScoreConfig = DEFAULT_CONFIG,
    mapping: dict[str, str] | None = None,
    rejects: io.RejectSink | None = None,
    address: str | None = None,
    on_rows: Callable[[int], None] = lambda n: None,
) -> ScoreSummary:
    """Score one export into the directory `output` (part-*.parquet) with a Ray actor pool."""
    output, summary = Path(output), ScoreSummary()
    rejects = rejects if rejects is not None else io.RejectSink()
    _prepare_model(Path(model), backend)
    with ray_session(address) as ray, _staging(output) as staging:
        chunks = io.read_chunks(
            input_path, mapping=mapping, chunk_size=config.chunk_size, rejects=rejects
        )
        scored = _scored(ray, chunks, str(Path(model).resolve()), backend, config.batch_size)
        parts = _write_parts(scored, staging / ".scored", summary, on_rows)
        for i, frame in enumerate(summary.counted(signal_frames(parts, config.signals))):
            io.write_table([frame], staging / f"part-{i:05d}.parquet")
        shutil.rmtree(staging / ".scored")
    summary.rows_rejected = rejects.count
    summary.rows_in = summary.rows_scored + summary.rows_rejected
    return summary


def _prepare_model(model: Path, backend: str | None) -> None:
    """Build the ONNX cache once here, not in every actor at the same moment."""
    from pipeline.backends import ONNX_GRAPHS, default_backend

    graph = ONNX_GRAPHS.get(backend or default_backend())
    if graph is not None:
        from pipeline.onnx_export import ensure_onnx

        ensure_onnx(model, graph)


def _scored(
    ray: Any, chunks: Iterator[pd.DataFrame], model: str, backend: str | None, batch_size=None
):
    refs = [ray.put(chunk) for chunk in chunks]
    if not refs:
        return iter(())
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True  # parts (and rows) in input order
    context.enable_progress_bars = False  # the CLI draws its own
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # per-dataset chatter on stderr
    cpus = int(ray.cluster_resources().get("CPU", 1))
    threads = min(CPUS_PER_ACTOR, cpus)
    dataset = ray.data.from_pandas_refs(refs).map_batches(
        ScoreActor,
        fn_constructor_kwargs={
            "model": model,
            "backend": backend,
            "threads": threads,
            "batch_size": batch_size,
        },  # fmt: skip
        batch_size=None,  # one chunk per call, as the local engine scores it
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=max(1, min(len(refs), cpus // threads))),
        num_cpus=threads,
    )
    return dataset.iter_batches(batch_size=None, batch_format="pandas")


def _write_parts(
    frames: Iterator[pd.DataFrame], directory: Path, summary: ScoreSummary, on_rows: Callable
) -> list[Path]:
    directory.mkdir(parents=True)
    parts, first = [], {}
    for i, frame in enumerate(frames):
        digests = cache_digests(frame).tolist()
        distinct = set(digests)  # the keys the actor's KeyCache scored
        summary.texts_scored += len(distinct)  # each actor call scores its distinct keys once
        frame = _plain_text(first_seen_scores(frame, digests, first))
        parts.append(directory / f"part-{i:06d}.parquet")
        io.write_table([frame], parts[-1])
        summary.rows_scored += len(frame)
        on_rows(len(frame))
    summary.distinct_keys = len(first)
    return parts


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Ray hands chunks back with Arrow string columns (large_string[pyarrow]); the parts
    keep the "string" dtype the local engine writes."""
    arrow = [c for c, t in frame.dtypes.items() if isinstance(t, pd.ArrowDtype) and
             pd.api.types.is_string_dtype(t)]  # fmt: skip
    return frame.astype(dict.fromkeys(arrow, "string")) if arrow else frame


def first_seen_scores(frame: pd.DataFrame, digests: list, first: dict) -> pd.DataFrame:
    """`frame` with the scores its keys got where they first occurred in the export (`first`,
    digest -> scores, updated here). Texts that share a dedup key can clean differently
    ("Beautiful!!" / "Beautiful"); the local engine's one cache scores the first of them for
    the whole export, an actor only for its chunk."""
    columns = [c for c in frame.columns if c.startswith("p_")] + ["pred_label"]
    rows = frame[columns].itertuples(index=False, name=None)
    values = [first.setdefault(d, row) for d, row in zip(digests, rows, strict=True)]
    out = frame.copy()
    for j, column in enumerate(columns):
        out[column] = pd.Series([v[j] for v in values], index=frame.index).astype(
            frame[column].dtype
        )
    return out


@contextlib.contextmanager
def ray_session(address: str | None = None) -> Iterator[Any]:
    """Ray, connected to `address` or started locally on this machine's cores (and stopped
    again afterwards); an already initialised Ray is used as it is."""
    import ray

    if ray.is_initialized():
        yield ray
        return
    temp = tempfile.mkdtemp(prefix="ca-ray-")  # short: Ray's socket paths must stay < 108 bytes
    try:
        _init(ray, address, temp)
        yield ray
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def _init(ray: Any, address: str | None, temp: str) -> None:
    from pipeline.cpu import available_cores

    if address:
        ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # else it writes ~/.ray/auth_token
    ray.init(
        num_cpus=available_cores(), include_dashboard=False, _temp_dir=temp,
        logging_level="WARNING", log_to_driver=False,
    )  # fmt: skip


@contextlib.contextmanager
def _staging(output: Path) -> Iterator[Path]:
    """A hidden directory next to `output`, renamed onto it when the block succeeds."""
    if output.exists() and not _is_ours(output):
        raise FileExistsError(f"{output} exists and is not a directory of scored parts")
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the output from other users and nodes
    try:
        yield staging
        old = output.with_name(f".{output.name}.old.{os.getpid()}")
        if output.exists():
            os.rename(output, old)
        os.rename(staging, output)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _is_ours(path: Path) -> bool:
    """An earlier run's output: a directory holding only part-*.parquet files."""
    return path.is_dir() and all(
        p.name.startswith("part-") and p.suffix == ".parquet" for p in path.iterdir()
    )
