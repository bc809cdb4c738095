"""Coverage-guided fuzzing of the readers and the cleaning stage with atheris (libFuzzer).

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python scripts/fuzz.py --target read --seconds 300 [--record FILE.json]
    .venv/bin/python scripts/fuzz.py --target clean --seconds 120

`read` feeds arbitrary bytes to `read_chunks` as each format (the first byte picks the file
name: .csv, .tsv, .jsonl, .json, .parquet, .csv.gz, or gzip-compressed); only InputError may
escape. `clean` feeds arbitrary text (lone surrogates included) to `clean`. Any other
exception, or a crash of the process, is a finding: libFuzzer writes the input to
fuzz/crashes/, which becomes a regression test. Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CRASHES = REPO / "fuzz" / "crashes"
NAMES = ("x.csv", "x.tsv", "x.jsonl", "x.json", "x.parquet", "x.csv.gz", "x.txt", "x.ndjson")


def main() -> None:
    args = parse_args()
    if args.child:
        return fuzz(args.target, args.libfuzzer)
    started = time.monotonic()
    stats = supervise(args.target, args.seconds, args.corpus)
    stats["wall_seconds"] = round(time.monotonic() - started, 1)
    print(json.dumps(stats, indent=2))
    if args.record:
        record(Path(args.record), args.target, stats)
    sys.exit(0 if stats["exit_code"] == 0 and not stats["crashes"] else 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", choices=("read", "clean"), default="read")
    parser.add_argument("--seconds", type=int, default=60, help="time budget (libFuzzer)")
    parser.add_argument("--corpus", type=Path, help="working corpus dir (default: a temp dir)")
    parser.add_argument("--record", help="merge the run's stats into this JSON file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("libfuzzer", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args()


def supervise(target: str, seconds: int, corpus: Path | None) -> dict:
    """Run the fuzzer in a child (libFuzzer exits the process) and read its statistics."""
    corpus = corpus or Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    seed(corpus, target)
    CRASHES.mkdir(parents=True, exist_ok=True)
    before = set(CRASHES.iterdir())
    # -timeout=0: with libFuzzer's SIGALRM timer on, runs died of SIGALRM (exit -14) after
    # 1-5 minutes with no input saved; a hang is caught by the subprocess timeout instead.
    flags = [f"-max_total_time={seconds}", "-max_len=16384", "-timeout=0", "-rss_limit_mb=4096",
             f"-artifact_prefix={CRASHES}/{target}-", str(corpus)]  # fmt: skip
    cmd = [sys.executable, __file__, "--child", "--target", target, "--", *flags]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=seconds + 300)
    except subprocess.TimeoutExpired as e:  # one input ran for minutes: a hang to look into
        log = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else e.stderr
        done = subprocess.CompletedProcess(cmd, "hang", "", log or "")
    (CRASHES.parent / f"last-{target}.log").write_text(done.stderr)  # libFuzzer's full log
    # libFuzzer's status lines ("#4096 pulse ...") and its last words ("Done 9000 runs").
    pairs = re.findall(r"^#(\d+)\s|Done (\d+) runs", done.stderr, re.MULTILINE)
    runs = [int(x) for pair in pairs for x in pair if x]
    found = sorted(str(p.relative_to(REPO)) for p in set(CRASHES.iterdir()) - before)
    if done.returncode and not found:
        sys.stderr.write(done.stderr[-4000:])
    return {"target": target, "seconds": seconds, "runs": max(runs, default=None),
            "corpus_files": len(list(corpus.iterdir())), "crashes": found,
            "exit_code": done.returncode}  # fmt: skip


def seed(corpus: Path, target: str) -> None:
    """Start from the fixture exports and the small hostile ones, as format byte + data."""
    spec = importlib.util.spec_from_file_location("hostile", REPO / "tests" / "hostile.py")
    # By path: tests/ is not a package. Registered, as dataclasses look their module up.
    hostile = sys.modules["hostile"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hostile)
    named = [(p.name, p.read_bytes()) for p in sorted((REPO / "tests/fixtures/io").iterdir())]
    named += [(case.name, data) for case in hostile.CASES if len(data := case.data()) < 16_000]
    for i, (name, data) in enumerate(named):
        if target == "read":
            index = next((k for k, n in enumerate(NAMES) if name.endswith(n[1:])), 0)
            data = bytes([index]) + data
        (corpus / f"seed-{i:03d}").write_bytes(data[:16_000])


def fuzz(target: str, libfuzzer_args: list[str]) -> None:
    import atheris
    import ijson  # noqa: F401  (imported before instrumenting: only our code is traced)
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    with atheris.instrument_imports(include=["pipeline"]):
        from pipeline import clean, io, records, schemas, sources  # noqa: F401
    one = read_one if target == "read" else clean_one
    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


_WORK = Path(
    tempfile.mkdtemp(prefix="fuzz-input-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
)


def read_one(data: bytes) -> None:
    from pipeline.io import InputError, RejectSink, read_chunks

    if not data:
        return
    name, body = NAMES[data[0] % len(NAMES)], data[1:]
    path = _WORK / name
    path.write_bytes(gzip.compress(body, mtime=0) if name.endswith(".gz") else body)
    with contextlib.suppress(InputError):
        sink = RejectSink()
        rows = sum(len(chunk) for chunk in read_chunks(path, chunk_size=7, rejects=sink))
        assert rows >= 0 and sink.count >= 0


def clean_one(data: bytes) -> None:
    import atheris

    from pipeline.clean import clean

    text = atheris.FuzzedDataProvider(data).ConsumeUnicode(len(data))
    result = clean(text)
    assert clean(result.text).text == result.text, "cleaning is not idempotent"
    result.text.encode("utf-8")


def record(path: Path, target: str, stats: dict) -> None:
    """Append the run to the log that scripts/reliability_report.py summarises."""
    runs = json.loads(path.read_text()) if path.exists() else []
    runs.append({"date": time.strftime("%Y-%m-%d"), **stats})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
