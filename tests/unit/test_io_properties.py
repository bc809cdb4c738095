"""Properties of the readers over arbitrary bytes and arbitrary records (hypothesis).

Whatever the bytes, reading either works or raises InputError (which the CLI turns into
exit 2 with a message): never another exception. Whatever the records, each one ends as a
row or a reject, and the chunk size changes nothing.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.io import InputError, RejectSink, read_chunks

SETTINGS = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
# Bytes that steer the sniffers: BOMs, gzip and Parquet magic, quotes, brackets, NULs.
MAGIC = st.sampled_from(
    [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b", b"PAR1", b"[", b"{", b"}", b"]"]
    + [b'"', b",", b";", b"\t", b"|", b"\n", b"\r", b"\x00", b"text", b'{"text": "a"}', b"\xff"]
)
BYTES = st.one_of(st.binary(max_size=400), st.lists(MAGIC, max_size=40).map(b"".join))
SUFFIXES = (".csv", ".jsonl", ".json", ".csv.gz", ".txt", ".tsv")
# Any text a file can hold (no lone surrogates: they have no UTF-8 encoding).
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)


def read(path: Path, chunk_size: int = 3) -> tuple[int, int]:
    """(rows, rejects) from reading `path` to the end."""
    sink = RejectSink()
    rows = sum(len(c) for c in read_chunks(path, chunk_size=chunk_size, rejects=sink))
    return rows, sink.count


@contextmanager
def written(data: bytes, suffix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="io-props-") as directory:
        path = Path(directory) / f"input{suffix}"
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
        yield path


@SETTINGS
@given(BYTES, st.sampled_from(SUFFIXES))
@example(b"[" * 5000, ".json")
@example(b'{"text": "a", "b": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", ".jsonl")
@example(b"\x1f\x8b\x08\x00", ".csv")
@example(b"PAR1garbage", ".csv")
def test_any_bytes_read_or_raise_input_error(data: bytes, suffix: str) -> None:
    try:
        with written(data, suffix) as path:
            read(path)
    except InputError as e:
        assert str(e).startswith(str(e.file)) and e.message


ROW = st.tuples(TEXT, TEXT, TEXT)


@SETTINGS
@given(st.lists(ROW, max_size=12))
@example([("1", "ann", 'say "hi"\r\nthen\rmore'), ("2", "bob", "\x00")])
def test_csv_rows_plus_rejects_equal_records(rows: list[tuple[str, str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # "\n" alone leaves a lone "\r" unquoted
    writer.writerows([("comment_id", "author", "text"), *rows])
    expected = sum(_has_text(text) for _, _, text in rows)
    with written(buffer.getvalue().encode("utf-8"), ".csv") as path:
        assert read(path, 4) == read(path, 1000) == (expected, len(rows) - expected)


LINE = st.one_of(
    st.fixed_dictionaries({"text": TEXT, "author": TEXT}).map(json.dumps),
    st.lists(TEXT, max_size=2).map(json.dumps),
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20),
)


@SETTINGS
@given(st.lists(LINE, min_size=1, max_size=12))
@example(["\x00\x80", "\x000"])  # NULs at even offsets, but a UTF-8 line end: not UTF-16
def test_jsonl_rows_plus_rejects_equal_nonblank_lines(lines: list[str]) -> None:
    if not any(_has_text(line) for line in lines):
        lines = [*lines, json.dumps({"text": "keep the file from being empty"})]
    records = sum(_has_text(line) for line in lines)
    with written("\n".join(lines).encode("utf-8"), ".jsonl") as path:
        rows, rejects = read(path)
        assert rows + rejects == records
        assert read(path, 1000) == (rows, rejects)


def _has_text(value: str) -> bool:
    # The readers drop NULs and treat a whitespace-only text (or line) as empty.
    return bool(value.replace("\x00", "").strip())
