"""Coverage-guided fuzzing of the readers and the cleaning stage with atheris (libFuzzer).

    .venv/bin/pip install -e '.[fuzz]'
    .venv/bin/python scripts/fuzz.py --target read --seconds 300 [--record FILE.json]
    .venv/bin/python scripts/fuzz.py --target clean --seconds 120

`read` feeds arbitrary bytes to `read_chunks` as each format (the first byte picks the file
name: .csv, .tsv, .jsonl, .json, .parquet, .csv.gz, or gzip-compressed); only InputError may
escape. `clean` feeds arbitrary text (lone surrogates included) to `clean`, which must not
raise, must be idempotent and must stay within MAX_CHARS. Any other exception, an input that
runs over TIMEOUT_S, or a crash of the process is a finding: its input lands in fuzz/crashes/
(TARGET-crash-*, TARGET-timeout-*, or TARGET-exitN-* / TARGET-hang-* where libFuzzer could
not save it) and becomes a regression test. Not part of the test run.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CRASHES = REPO / "fuzz" / "crashes"
NAMES = ("x.csv", "x.tsv", "x.jsonl", "x.json", "x.parquet", "x.csv.gz", "x.txt", "x.ndjson")
# Per-input time limit. Not 0: atheris then arms a 1 s alarm and reports any input still
# running when a wall-clock second ticks over as a timeout (its "=== Timeout" line goes to
# stdout), so runs ended as "crashes" after 9-77 s on inputs that rerun in milliseconds.
TIMEOUT_S = 60
SHM = "/dev/shm" if os.path.isdir("/dev/shm") else None


def main() -> None:
    args = parse_args()
    if args.child:
        return fuzz(args.target, args.work, args.libfuzzer)
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
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("libfuzzer", nargs="*", help=argparse.SUPPRESS)
    return parser.parse_args()


def supervise(target: str, seconds: int, corpus: Path | None) -> dict:
    """Run the fuzzer in a child (libFuzzer exits the process) and read its statistics."""
    corpus = corpus or Path(tempfile.mkdtemp(prefix=f"fuzz-{target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    seed(corpus, target)
    CRASHES.mkdir(parents=True, exist_ok=True)
    before = set(CRASHES.iterdir())
    work = Path(tempfile.mkdtemp(prefix="fuzz-input-", dir=SHM))
    flags = [f"-max_total_time={seconds}", "-max_len=16384", f"-timeout={TIMEOUT_S}"]
    flags += ["-rss_limit_mb=4096", f"-artifact_prefix={CRASHES}/{target}-", str(corpus)]
    cmd = [sys.executable, __file__, "--child", "--target", target, "--work", str(work), "--"]
    done = run_child([*cmd, *flags], seconds + 300)
    log = done.stderr + "\n--- stdout (atheris prints Python tracebacks and timeouts here)\n"
    (CRASHES.parent / f"last-{target}.log").write_text(log + done.stdout)
    # libFuzzer's status lines ("#4096 pulse ...") and its last words ("Done 9000 runs").
    pairs = re.findall(r"^#(\d+)\s|Done (\d+) runs", done.stderr, re.MULTILINE)
    runs = [int(x) for pair in pairs for x in pair if x]
    found = sorted(str(p.relative_to(REPO)) for p in set(CRASHES.iterdir()) - before)
    if done.returncode and not found:
        found = keep_last_input(work, target, done.returncode)
        sys.stderr.write(done.stderr[-4000:] + done.stdout[-4000:])
    shutil.rmtree(work, ignore_errors=True)
    return {"target": target, "seconds": seconds, "runs": max(runs, default=None),
            "corpus_files": len(list(corpus.iterdir())), "crashes": found,
            "exit_code": done.returncode}  # fmt: skip


def run_child(cmd: list[str], timeout: int) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=timeout)
    except subprocess.TimeoutExpired as e:  # one input ran for minutes: a hang to look into
        out, err = (
            x.decode(errors="replace") if isinstance(x, bytes) else x or ""
            for x in (e.stdout, e.stderr)
        )
        return subprocess.CompletedProcess(cmd, "hang", out, err)


def keep_last_input(work: Path, target: str, exit_code: int | str) -> list[str]:
    """The input that was running when the child died without libFuzzer saving one (killed
    by a signal, a hang past the subprocess timeout): each input is written there first."""
    current = work / "current"
    if not current.exists():
        return []
    data = current.read_bytes()
    kind = "hang" if exit_code == "hang" else f"exit{exit_code}"
    kept = CRASHES / f"{target}-{kind}-{hashlib.sha1(data).hexdigest()}"
    kept.write_bytes(data)
    return [str(kept.relative_to(REPO))]


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


def fuzz(target: str, work: Path | None, libfuzzer_args: list[str]) -> None:
    import atheris
    import ijson  # noqa: F401  (imported before instrumenting: only our code is traced)
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    with atheris.instrument_imports(include=["pipeline"]):
        from pipeline import clean, io, records, schemas, sources  # noqa: F401
    global _WORK
    _WORK = work or Path(tempfile.mkdtemp(prefix="fuzz-input-", dir=SHM))
    one = read_one if target == "read" else clean_one
    atheris.Setup([sys.argv[0], *libfuzzer_args], one)
    atheris.Fuzz()


_WORK = Path()  # set by fuzz(): where inputs are written (tmpfs: thousands a second)


def read_one(data: bytes) -> None:
    from pipeline.io import InputError, RejectSink, read_chunks

    (_WORK / "current").write_bytes(data)
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

    from pipeline.clean import MAX_CHARS, clean

    (_WORK / "current").write_bytes(data)
    text = atheris.FuzzedDataProvider(data).ConsumeUnicode(len(data))
    result = clean(text)
    assert clean(result.text).text == result.text, "cleaning is not idempotent"
    assert len(result.text) <= MAX_CHARS, "cleaned text is over its bound"
    result.text.encode("utf-8")
    result.dedup_key.encode("utf-8")


def record(path: Path, target: str, stats: dict) -> None:
    """Append the run to the log that scripts/reliability_report.py summarises."""
    runs = json.loads(path.read_text()) if path.exists() else []
    runs.append({"date": time.strftime("%Y-%m-%d"), **stats})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
