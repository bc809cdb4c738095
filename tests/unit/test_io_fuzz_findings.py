"""Regressions for what fuzzing the readers found (scripts/fuzz.py --target read).

Each test holds the minimised input as bytes. Before the fix each one escaped `read_chunks`
as an exception other than InputError (or hung); now it is read, with every record a row or
a reject, or it stops with an InputError that names the file.
"""

from __future__ import annotations

import csv
import io
import re
import signal
import subprocess
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io import InputError, RejectSink, read_chunks

# A gzip member header (deflate, no flags, no mtime) for hand-made deflate streams.
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# A final deflate block of type 3, which does not exist: zlib.error "invalid block type".
BAD_BLOCK = b"\x07"


def read(path: Path, chunk_size: int = 7) -> tuple[pd.DataFrame, RejectSink]:
    sink = RejectSink()
    frames = list(read_chunks(path, chunk_size=chunk_size, rejects=sink))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), sink


def written(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


class Hung(Exception):
    """Not TimeoutError: that is an OSError, which the timestamp parser catches."""


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail instead of hanging the suite, for inputs that once looped forever."""

    def expire(signum, frame):
        raise Hung(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_column_named_like_a_renamed_reserved_one_keeps_both(tmp_path):
    # Was ValueError "cannot reindex on an axis with duplicate labels": "text" was renamed
    # "input_text" (though consumed) next to the real "input_text" column.
    df, sink = read(written(tmp_path, "x.csv", b"text,input_text\nhello,x\n"))
    assert (len(df), sink.count) == (1, 0)
    assert (df["text"][0], df["input_text"][0]) == ("hello", "x")


def test_reserved_passthrough_names_never_collide(tmp_path):
    # "source_file" becomes "input_source_file", which this file also has: the prefix repeats.
    data = b'[{"text":"a","source_file":"s","input_source_file":"t","source_line":"u"}]'
    df, _ = read(written(tmp_path, "x.json", data))
    assert df["source_file"][0].endswith("x.json")
    extra = {c: df[c][0] for c in df.columns if c.startswith("input_")}
    assert extra == {
        "input_source_file": "s",
        "input_input_source_file": "t",
        "input_source_line": "u",
    }


def test_a_passthrough_name_stays_fixed_across_chunks(tmp_path):
    # JSON columns vary by record: "source_file" named "input_source_file" in the first chunk
    # keeps it, and a later column of that very name does not merge into it.
    data = b'[{"text":"a","source_file":"s"},{"text":"b","input_source_file":"t"}]'
    df, _ = read(written(tmp_path, "x.json", data), chunk_size=1)
    assert df["input_source_file"].tolist() == ["s", pd.NA]
    assert df["input_input_source_file"].tolist() == [pd.NA, "t"]


def test_a_chunk_of_records_without_fields_is_rejects_not_a_crash(tmp_path):
    # Was ValueError "Length of values (7) does not match length of index (0)": a batch of
    # {} records made a frame of no rows.
    data = b'[{"text":"a"}' + b",{}" * 13 + b"]"
    df, sink = read(written(tmp_path, "x.json", data))
    assert (len(df), sink.count) == (1, 13)
    assert {r.reason for r in sink.rejects} == {"empty text"}


def read_in_child(path: Path) -> subprocess.CompletedProcess:
    """Read `path` in another process: what once crashed did so with a segfault."""
    code = (
        "import sys\n"
        "from pipeline.io import InputError, RejectSink, read_chunks\n"
        "try:\n"
        "    list(read_chunks(sys.argv[1], chunk_size=7, rejects=RejectSink()))\n"
        "except InputError as e:\n"
        "    print(e)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120
    )


# Found by scripts/fuzz.py after the first fix below: the same kind of number, split by a
# control byte, segfaulted ijson's C backend (the NULs are dropped before parsing).
SEGFAULT_JSON = (
    b'[{"text": "a", "n": '
    + b"1" * 1452
    + b"0" * 3451
    + b"\x03"
    + b"\x00" * 7
    + b"0" * 80
    + b"749104513}]"
)
TOO_LONG = r"unreadable JSON after record 0: a number of more than 4300 digits"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SEGFAULT_JSON, id="segfault"),
        # Was SystemError: int() refused the digits and ijson left that ValueError pending.
        pytest.param(b'[{"text":"a","n":' + b"1" * 5000 + b"}]", id="system-error"),
        # A run split across the 64 Ki-character chunks that the JSON reader decodes.
        pytest.param(
            b'[{"text": "a", "pad": "' + b"x" * 65_500 + b'", "n": ' + b"1" * 5000 + b"}]",
            id="across-chunks",
        ),
    ],
)
def test_an_integer_too_long_for_python_stops_a_json_read(tmp_path, data):
    done = read_in_child(written(tmp_path, "x.json", data))
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(rf"x.json: {TOO_LONG}", done.stdout), done.stdout


def test_an_integer_of_4300_digits_is_still_read(tmp_path):
    data = b'[{"text": "a", "n": ' + b"7" * 4300 + b', "s": "' + b"8" * 4300 + b'"}]'
    df, _ = read(written(tmp_path, "x.json", data))
    assert (df["n"][0], df["s"][0]) == ("7" * 4300, "8" * 4300)


def test_an_integer_too_long_for_python_is_a_jsonl_reject(tmp_path):
    data = b'{"text":"a","n":' + b"1" * 5000 + b'}\n{"text":"b"}\n'
    df, sink = read(written(tmp_path, "x.jsonl", data))
    assert df["text"].tolist() == ["b"]
    assert (sink.rejects[0].line, sink.count) == (1, 1)
    assert "4300 digits" in sink.rejects[0].reason
    assert "set_int_max_str_digits" not in sink.rejects[0].reason  # no advice for a user


def test_corrupt_deflate_data_at_the_start_is_an_input_error(tmp_path):
    # Was zlib.error (not an OSError, so not caught) from gzip's decompressor.
    path = written(tmp_path, "x.csv", GZIP_HEADER + BAD_BLOCK)
    with pytest.raises(InputError, match=r"x.csv: cannot read: .*invalid block type"):
        read(path)


def test_corrupt_deflate_data_mid_file_is_an_input_error_with_a_line(tmp_path):
    rows = b"".join(b"c%d,comment number %d\n" % (i, i) for i in range(20_000))
    packer = zlib.compressobj(wbits=-15)  # raw deflate, framed by GZIP_HEADER
    body = packer.compress(b"comment_id,text\n" + rows) + packer.flush(zlib.Z_SYNC_FLUSH)
    path = written(tmp_path, "x.csv.gz", GZIP_HEADER + body + BAD_BLOCK)
    with pytest.raises(InputError, match=r"line \d+: cannot read past record \d+.*block type"):
        read(path, chunk_size=10_000)


def test_a_first_line_nested_too_deep_for_json_loads_is_sniffed(tmp_path):
    # Was RecursionError from json.loads in the format sniffer (no known extension).
    deep = b'{"text": "deep", "x": ' + b"[" * 3000 + b"]" * 3000 + b"}\n"
    df, sink = read(written(tmp_path, "x.parquet", deep + b'{"text": "ok"}\n'))
    assert df["text"].tolist() == ["ok"]
    assert [r.reason for r in sink.rejects] == ["record nested more than 64 levels deep"]


def test_an_epoch_of_hundreds_of_digits_is_no_timestamp(tmp_path):
    # Was an endless loop: float() of 309+ digits is inf, and inf / 1000 stays inf.
    digits = b"9" * 400
    with time_limit(10):
        df, _ = read(written(tmp_path, "x.csv", b"text,created_at\nhi," + digits + b"\n"))
    assert df["created_at"].isna().all()
    assert df["created_at_raw"][0] == digits.decode()


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("1700000000", "2023-11-14T22:13:20Z"),
        ("1700000000000000000", "2023-11-14T22:13:20Z"),  # nanoseconds: 19 digits, still read
        ("17000000000000000000", None),  # 20 digits: no timestamp
    ],
)
def test_epoch_digit_bounds(raw, iso):
    from pipeline.values import normalise_timestamp

    with time_limit(10):
        assert normalise_timestamp(raw) == iso


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def test_invalid_utf8_in_a_parquet_string_rejects_that_row_only(tmp_path):
    # Was UnicodeDecodeError from to_pylist: Parquet pages carry no checksum by default, so a
    # damaged string column can hold any bytes. view() skips the UTF-8 check, as damage does.
    text = pa.array([b"fine", b"\xbe\xff broken", b"also fine"]).view(pa.string())
    path = written(tmp_path, "x.parquet", parquet(pa.table({"text": text})))
    df, sink = read(path)
    assert df["text"].tolist() == ["fine", "also fine"]
    reject = sink.rejects[0]
    assert (reject.line, reject.field, sink.count) == (2, "text", 1)
    assert reject.reason.startswith("unreadable Parquet value: 'utf-8' codec can't decode")


def test_a_parquet_date_past_year_9999_rejects_that_row_only(tmp_path):
    # Was OverflowError ("date value out of range") from to_pylist.
    days = pa.array([19_000, 3_000_000], pa.int32()).view(pa.date32())
    path = written(tmp_path, "x.parquet", parquet(pa.table({"text": ["a", "b"], "day": days})))
    df, sink = read(path)
    assert (df["text"].tolist(), df["day"].tolist()) == (["a"], ["2022-01-08"])
    assert (sink.rejects[0].line, sink.rejects[0].field) == (2, "day")


def test_a_parquet_column_name_that_is_not_utf8_is_an_input_error(tmp_path):
    # Was UnicodeDecodeError from pq.ParquetFile: the footer's schema is unreadable.
    data = parquet(pa.table({"text": ["a"], "col\u00e9": ["b"]}))
    data = data.replace("col\u00e9".encode(), b"col\xff\xfe")  # same length: the footer stays whole
    with pytest.raises(InputError, match=r"x.parquet: unreadable Parquet: 'utf-8' codec"):
        read(written(tmp_path, "x.parquet", data))


def test_a_header_quote_past_the_field_limit_is_an_input_error(tmp_path):
    # Was csv.Error from the header row (only data rows were guarded). A real one takes a
    # 32 MiB field (tests/hostile.py has it, gzipped); a lower limit shows the same path.
    previous = csv.field_size_limit(1000)
    try:
        with pytest.raises(InputError, match=r"x.csv: line 1: unreadable CSV header: field larger"):
            read(written(tmp_path, "x.csv", b'"' + b"a\n" * 1000))
    finally:
        csv.field_size_limit(previous)
