"""Throughput benchmark: naive transformers pipeline vs our torch, bf16 and ONNX paths, end to end.

    .venv/bin/python scripts/bench.py [--model models/default] [--rows 1000000]
        [--export /tmp/big.csv] [--skip-e2e] [--student models/student]

Prints one markdown table, all measured in this run on this machine: model-only rates on
the distinct cleaned real comments of ../shared/datasets, then `comment-audit score` on a
synthetic export (scripts/make_big_export.py) from CSV to Parquet, in a child process
whose peak RSS is read back with wait4. `--student` adds the faster student model: its
model-only rate on the default backend, its agreement with the model, and (unless
--skip-e2e) its own end-to-end run on the same export.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
from bench_clean import load_comments  # noqa: E402

from pipeline.artifact import read_manifest  # noqa: E402
from pipeline.backends import default_backend, load_classifier, openvino_available  # noqa: E402
from pipeline.clean import clean_many  # noqa: E402
from pipeline.cpu import available_cores, native_bf16  # noqa: E402
from pipeline.io import read_chunks  # noqa: E402
from pipeline.tokens import load_hf_tokenizer  # noqa: E402

# The faster paths, each compared with torch fp32; bf16 only where the CPU runs it natively.
FAST_PATHS = {
    "torch-bf16": "ours, torch bf16 (one single-thread stream per core)",
    "onnx": "ours, ONNX Runtime int8",
    "openvino": "ours, OpenVINO (bf16 where native; one single-thread stream per core)",
}


def timed(run, n: int) -> float:
    """Items per second of one `run()` over `n` items."""
    start = time.perf_counter()
    run()
    return n / (time.perf_counter() - start)


def naive_rate(model: Path, texts: list[str]) -> float:
    """transformers.pipeline("text-classification") over the merged fp32 encoder, batch 32.

    Our head mean-pools; the pipeline needs a stock model, so the fine-tuned encoder is
    loaded into BertForSequenceClassification (its [CLS] pooler head costs the same)."""
    from transformers import BertForSequenceClassification, pipeline

    ours = load_classifier(model, "torch")
    stock = BertForSequenceClassification(ours.network.encoder.config)
    stock.bert.load_state_dict(ours.network.encoder.state_dict(), strict=False)
    # transformers' own tokenizer: the pipeline calls it (scoring reads tokenizer.json alone).
    tokenizer = load_hf_tokenizer(model)
    pipe = pipeline("text-classification", model=stock.eval(), tokenizer=tokenizer)
    kwargs = {"batch_size": 32, "truncation": True, "max_length": ours.max_length}
    pipe(texts, **kwargs)  # warm-up, as for every path
    return timed(lambda: pipe(texts, **kwargs), len(texts))


def model_rate(model: Path, backend: str, texts: list[str]) -> tuple[float, np.ndarray]:
    """Comments/s of `score_clean` (the model only: texts are cleaned already), and p_spam."""
    classifier = load_classifier(model, backend)
    # One untimed pass first, as for every path: a million-row export repeats the same batch
    # shapes, so the steady rate counts (OpenVINO builds its kernels once per new shape).
    classifier.score_clean(texts)
    scores = {}
    rate = timed(lambda: scores.update(classifier.score_clean(texts)), len(texts))
    return rate, scores["p_spam"]


def model_rates(
    model: Path, texts: list[str], student: Path | None = None
) -> tuple[dict[str, float], list[str]]:
    """Model-only rates of torch fp32 and of each faster path here, with its agreement line;
    with `student`, its rate on the default backend and its agreement with the model."""
    rate, reference = model_rate(model, "torch", texts)
    rates, lines = {"ours, torch fp32": rate}, []
    threshold = read_manifest(model)["threshold"]
    for backend, name in FAST_PATHS.items():
        if runs_here(backend):
            rates[name], p_spam = model_rate(model, backend, texts)
            lines.append(agreement(name, p_spam, reference, threshold))
    if student is not None:
        name = student_row(student)
        rates[name], p_spam = model_rate(student, default_backend(), texts)
        lines.append(agreement("student", p_spam, reference, 0.5))
    return rates, lines


def runs_here(backend: str) -> bool:
    if backend == "torch-bf16":
        return native_bf16()
    return backend != "openvino" or openvino_available()


def student_row(student: Path) -> str:
    return f"student `{student.name}`, {default_backend()}"


def model_rows(model: Path, student: Path | None) -> dict[str, Path]:
    """Model-only row name -> model, for the models run end to end (default backend)."""
    rows = {FAST_PATHS.get(default_backend(), "ours, torch fp32"): model}
    return rows | ({student_row(student): student} if student is not None else {})


def agreement(name: str, p_spam: np.ndarray, reference: np.ndarray, threshold: float) -> str:
    labels = np.mean((p_spam >= threshold) == (reference >= threshold))
    close = np.mean(np.abs(p_spam - reference) <= 0.02)
    worst = np.abs(p_spam - reference).max()
    return (
        f"{name} vs torch fp32 on {len(p_spam):,} distinct real comments: labels agree "
        f"{labels:.2%}, |delta p_spam| <= 0.02 for {close:.2%}, max {worst:.3f}"
    )


def end_to_end(model: Path, export: Path) -> dict[str, float]:
    """`comment-audit score` CSV -> Parquet in a child process on the default (fastest)
    backend: wall time, counts, and the peak RSS of that child alone (wait4)."""
    out = Path(tempfile.mkdtemp(prefix="bench-")) / "scored.parquet"
    cmd = [sys.executable, "-m", "pipeline", "score", str(export), "-o", str(out)]
    cmd += ["--model", str(model), "--backend", default_backend(), "--no-progress"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        log = err.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"end-to-end run failed:\n{log}")
    counts = re.findall(r"([\d,]+) (?:rows scored|distinct texts)", log)
    rows, texts = (int(x.replace(",", "")) for x in counts[:2])
    return {"wall": wall, "rows": rows, "texts": texts, "peak_mb": usage.ru_maxrss / 1024}


def export_texts(export: Path, n: int = 20_000) -> list[str]:
    """`n` distinct cleaned texts from the start of the export: the end-to-end run's own model
    inputs (its texts are recombined real comments, a little longer than the real ones)."""
    texts: dict[str, None] = {}
    for chunk in read_chunks(export):
        texts.update(dict.fromkeys(c.text for c in clean_many(chunk["text"].tolist()) if c.text))
        if len(texts) >= n:
            break
    return list(texts)[:n]


def timed_end_to_end(model: Path, export: Path, sample: list[str]) -> dict:
    """end_to_end, plus the model-only rate on `sample` measured just before and just after
    it (the shared host's speed drifts between runs; the mean is the run's denominator)."""
    before = model_rate(model, default_backend(), sample)[0]
    run = end_to_end(model, export)
    after = model_rate(model, default_backend(), sample)[0]
    return run | {"own": (before, after), "label": f"`{model.name}`"}


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    libs = ", ".join(
        f"{p} {version(p)}"
        for p in ("torch", "onnxruntime", "openvino", "transformers", "numpy", "pandas")
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    cores = f"{available_cores()} cores usable"
    return f"{cpu}, {cores}; Python {platform.python_version()}; {libs}; load average {load}"


def table(naive: float, rates: dict[str, float], e2e: dict[str, dict]) -> str:
    """The markdown table; each end-to-end row (keyed by its model's model-only row) also
    gives its distinct-comment rate as a share of that model-only rate."""
    rows = [
        "| path | input | comments/s | vs naive |",
        "|---|---|---|---|",
        f"| naive `transformers.pipeline`, fp32, batch 32 | distinct comments | {naive:,.0f}"
        " | 1.0x |",
    ]
    for name, rate in rates.items():
        rows.append(f"| {name} | distinct comments | {rate:,.0f} | {rate / naive:.1f}x |")
    for name, run in e2e.items():
        distinct = run["texts"] / run["wall"]
        rows.append(
            f"| end to end `comment-audit score`, CSV -> Parquet, {run['label']} | "
            f"{run['rows']:,} rows, {run['texts']:,} distinct | {run['rows'] / run['wall']:,.0f}"
            f" rows/s = {distinct:,.0f} distinct/s = {distinct / rates[name]:.0%} of model-only"
            f"{own_share(distinct, run['own'])} | peak RSS {run['peak_mb']:,.0f} MB |"
        )
    return "\n".join(rows)


def own_share(distinct: float, own: tuple[float, float]) -> str:
    before, after = own
    return (
        f" = {distinct / ((before + after) / 2):.0%} of the same model on the export's own texts"
        f" ({before:,.0f}/s just before, {after:,.0f}/s just after)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=REPO / "models" / "default")
    parser.add_argument("--datasets", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--export", type=Path, help="CSV to score end to end (else built)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-e2e", action="store_true")
    parser.add_argument("--student", type=Path, help="also time this (faster) student model")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}", flush=True)
    texts = sorted({c.text for c in clean_many(load_comments(args.datasets))} - {""})
    naive = naive_rate(args.model, texts)
    rates, agreements = model_rates(args.model, texts, args.student)
    e2e = {}
    if not args.skip_e2e:
        export = args.export or Path(tempfile.mkdtemp(prefix="bench-")) / "big.csv"
        if not export.exists():
            subprocess.run([sys.executable, str(REPO / "scripts" / "make_big_export.py"),
                            "-o", str(export), "--rows", str(args.rows)], check=True)  # fmt: skip
        sample = export_texts(export)
        for name, model in model_rows(args.model, args.student).items():
            e2e[name] = timed_end_to_end(model, export, sample)
    print(table(naive, rates, e2e))
    print("\n" + "\n".join(agreements))
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
