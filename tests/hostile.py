"""A corpus of hostile comment exports, built in code (the big ones at run time, never committed).

Each `Case` says how many records the file holds and how many rows a reader must make of them,
so a test (tests/unit/test_hostile_inputs.py) and the reliability table
(scripts/reliability_report.py) can check that input records = output rows + rejected rows.
`records=None` marks input that is unusable as a whole: exit code 2 and one clear message.
`run_case` runs one case through the real CLI (`comment-audit clean`) in this process.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

MB = 1 << 20
HEADER = b"comment_id,author,text\n"


@dataclass(frozen=True)
class Case:
    name: str  # the file name, whose extension picks the reader
    what: str
    data: Callable[[], bytes]
    records: int | None  # input records; None: the whole file is unusable (exit 2)
    rows: int = 0  # rows that must come out
    expect: str = ""  # regex the CLI message (exit 2) or some reject reason must match
    texts: tuple[str, ...] = ()  # when given: the text column, exactly, in order


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    rows: int
    rejected: int
    message: str  # the CLI's error line, or the distinct reject reasons
    rejects: list[dict]


def _csv(*rows: bytes) -> bytes:
    return HEADER + b"".join(rows)


def _parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def _typed_parquet() -> bytes:
    """Every kind of column an export may hold, so the fuzzer starts from real Parquet pages."""
    n = 3
    return _parquet(
        pa.table(
            {
                "text": ["caf\u00e9", "two", "\U0001f525"],
                "n": pa.array([1, 2**40, -3], pa.int64()),
                "x": [0.5, float("nan"), None],
                "at": pa.array([1_700_000_000_000_000] * n, pa.timestamp("us", tz="UTC")),
                "day": pa.array([19_000] * n, pa.date32()),
                "price": pa.array([1, 2, 3], pa.decimal128(5, 2)),
                "raw": [b"\x00\xff", b"", None],
                "tags": [["a", "b"], [], None],
                "meta": [{"k": 1, "v": "x"}, None, {"k": 2, "v": None}],
                "kind": pa.array(["u", "v", "u"]).dictionary_encode(),
            }
        )
    )


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _deep_record(depth: int) -> bytes:
    return b'{"text": "deep", "x": ' + _nested(depth) + b"}"


def _gzip(data: bytes, cut: float = 1.0) -> bytes:
    packed = gzip.compress(data, compresslevel=1)
    return packed[: int(len(packed) * cut)]


def _bad_deflate(data: bytes) -> bytes:
    """A gzip member whose deflate data is good, then a block of type 3, which is invalid."""
    packer = zlib.compressobj(wbits=-15)
    body = packer.compress(data) + packer.flush(zlib.Z_SYNC_FLUSH)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body + b"\x07"


def _rows(n: int) -> bytes:
    return b"".join(b"c%d,user%d,comment number %d\n" % (i, i % 7, i) for i in range(n))


CASES: tuple[Case, ...] = (
    Case("unclosed_quote.csv", "CSV: a quote never closed: its row is rejected, not the rest",
         lambda: _csv(b'c1,ann,"never closed\n', b"c2,bob,swallowed\n", b"c3,cy,also\n"),
         records=3, rows=2, expect="never closes"),
    Case("unclosed_quote_mid.csv", "CSV: a stray quote inside a field",
         lambda: _csv(b'c1,ann,he said "hi\n', b'c2,bob,"ok" then more\n'), records=2, rows=2),
    Case("ragged.csv", "CSV: rows with too many and too few fields",
         lambda: _csv(b"c1,ann,fine\n", b"c2,bob,too,many,fields\n", b"c3,cy\n", b"c4,dee,ok\n"),
         records=4, rows=2, expect=r"expected 3 fields, got (5|2)"),
    Case("mixed_delimiters.csv", "CSV: comma header, rows with ; and tab",
         lambda: _csv(b"c1;ann;semicolons\n", b"c2\tbob\ttabs\n", b"c3,cy,commas\n"), records=3,
         rows=1, expect=r"expected 3 fields, got 1"),
    Case("utf16_bom.csv", "UTF-16 with BOM",
         lambda: "comment_id,text\nu1,caf\u00e9 cr\u00e8me\nu2,\U0001f525\n".encode("utf-16"),
         records=2, rows=2, texts=("caf\u00e9 cr\u00e8me", "\U0001f525")),
    Case("utf16_no_bom.csv", "UTF-16-LE without BOM",
         lambda: "comment_id,text\nu1,hello\n".encode("utf-16-le"), records=1, rows=1,
         texts=("hello",)),
    Case("latin1.csv", "Latin-1 bytes",
         lambda: "comment_id,text\nl1,ni\u00f1o gar\u00e7on\nl2,\u00bfs\u00ed?\n".encode("latin-1"),
         records=2, rows=2, texts=("ni\u00f1o gar\u00e7on", "\u00bfs\u00ed?")),
    # With no valid UTF-8 character at all, the bytes read as a legacy code page instead.
    Case("invalid_utf8.csv", "UTF-8 with invalid bytes inside fields",
         lambda: _csv(b"b1,ann,na\xc3\xafve \xff\xfe\n", b"b2,bob,cut \xe2\x82\n", b"b3,cy,ok\n"),
         records=3, rows=3, texts=("na\u00efve \ufffd\ufffd", "cut \ufffd", "ok")),
    Case("nul_bytes.csv", "NUL bytes in the header and in fields",
         lambda: b"comment_id,te\x00xt\nz1,hel\x00lo\nz2,\x00\x00\n", records=2, rows=1,
         expect=r"empty text", texts=("hello",)),
    Case("nul_only.csv", "a file of NUL bytes only", lambda: b"\x00" * 4096, records=None,
         expect=r"empty file"),
    Case("field_10mb.csv", "CSV: one 10 MB field",
         lambda: _csv(b'f1,ann,"' + b"spam " * (2 * MB) + b'"\n', b"f2,bob,small\n"), records=2,
         rows=2),
    Case("field_10mb.jsonl", "JSONL: one 10 MB line",
         lambda: json.dumps({"text": "x" * (10 * MB)}).encode() + b'\n{"text": "ok"}\n', records=2,
         rows=2),
    Case("long_line_bomb.csv.gz", "gzip bomb: 64 MB without a newline from 64 KB",
         lambda: _gzip(HEADER + b"A" * (64 * MB)), records=None, expect=r"line 2: line longer"),
    Case("empty.csv", "an empty file", lambda: b"", records=None, expect=r"empty file"),
    Case("bom_only.csv", "a UTF-8 BOM and nothing else", lambda: b"\xef\xbb\xbf", records=None,
         expect=r"empty file"),
    Case("blank_lines.jsonl", "blank lines only", lambda: b"\n \n\r\n", records=None,
         expect=r"empty file"),
    Case("header_only.csv", "a header and no rows", lambda: HEADER, records=0),
    Case("no_text_column.csv", "CSV without a text column", lambda: b"id,body\n1,hi\n",
         records=None, expect=r"field 'text': no text column"),
    Case("wrong_types.json", "JSON: numbers, lists, objects, null and scalars as records",
         lambda: json.dumps(
            [
                {"text": 5, "author": {"a": [1, 2]}},
                {"text": None},
                {"text": ["x", {"y": 1}]},
                3,
                "s",
                [1],
                {"text": True},
            ]
        ).encode(),
         records=7, rows=3, expect=r"not a JSON object|empty text"),
    Case("wrong_nesting.json", "JSON: records under an unexpected key, nested pages",
         lambda: json.dumps(
            {
                "meta": {"n": 2},
                "data": [{"text": "a"}, {"comment": {"t": 1}}],
                "more": [[{"text": "b"}]],
            }
        ).encode(),
         records=2, rows=1, expect=r"empty text"),
    Case("truncated.json", "JSON cut in the middle of a record",
         lambda: b'[{"text": "a"}, {"text": "b"}, {"te', records=None,
         expect=r"invalid JSON after record 2"),
    Case("bad_lines.jsonl", "JSONL: invalid lines, arrays and strings between records",
         lambda: b'{"text": "a"}\n{not json\n[1, 2]\n"str"\n\xff\xfe\n{"text": "b"}\n', records=6,
         rows=2, expect=r"invalid JSON|not a JSON object"),
    Case("truncated.csv.gz", "gzip cut in half", lambda: _gzip(HEADER + _rows(20_000), cut=0.5),
         records=None, expect=r"line \d+: cannot read past record \d+"),
    Case("not_really.csv.gz", "gzip magic bytes, then garbage", lambda: b"\x1f\x8b" + b"x" * 64,
         records=None, expect=r"cannot read"),
    Case("double.csv.gz", "gzip inside gzip", lambda: _gzip(_gzip(HEADER + _rows(10))),
         records=None, expect=r"no text column"),
    Case("no_text.parquet", "Parquet without the text column",
         lambda: _parquet(pa.table({"id": ["a"], "body": ["x"]})), records=None,
         expect=r"field 'text': no text column found .* columns are: id, body"),
    Case("corrupt.parquet", "Parquet magic, then garbage", lambda: b"PAR1" + b"\x00" * 100,
         records=None, expect=r"unreadable Parquet"),
    Case("nested_100k.json", "billion-laughs style: 100k nested arrays", lambda: _nested(100_000),
         records=1, expect=r"nested more than \d+ levels"),
    Case("nested_100k_in_record.json", "a record holding 100k nested arrays, then a good one",
         lambda: b"[" + _deep_record(100_000) + b', {"text": "ok"}]', records=2, rows=1,
         expect=r"nested more than \d+ levels"),
    Case("nested_100k.jsonl", "JSONL: a line of 100k nested arrays, then a good line",
         lambda: _deep_record(100_000) + b'\n{"text": "ok"}\n', records=2, rows=1,
         expect=r"nested more than \d+ levels"),
    Case("nested_maps.jsonl", "JSONL: 100k nested objects",
         lambda: b'{"text": "hi", "x": ' + b'{"a":' * 100_000 + b"1" + b"}" * 100_001 + b"\n",
         records=1, expect=r"nested more than \d+ levels"),
    Case("lone_surrogates.jsonl", "JSON escapes of half an emoji",
         lambda: b'{"text": "half \\ud83d", "author": "\\udc00x"}\n', records=1, rows=1),
    Case("cr_only.csv", "old Mac line endings (CR only)", lambda: b"comment_id,text\rr1,a\rr2,b\r",
         records=2, rows=2),
    Case("binary_garbage.jsonl", "binary bytes as JSONL", lambda: bytes(range(256)) * 4, records=5,
         expect=r"invalid JSON"),
    # Found by scripts/fuzz.py (tests/unit/test_io_fuzz_findings.py has the minimal inputs).
    Case("reserved_columns.csv", "CSV: columns named like output columns and their renames",
         lambda: b"text,source_file,input_source_file,input_text\nhi,a,b,c\n", records=1, rows=1),
    Case("corrupt_deflate.csv.gz", "gzip whose deflate data turns invalid after 1 MB",
         lambda: _bad_deflate(HEADER + _rows(40_000)), records=None,
         expect=r"line \d+: cannot read past record \d+ .*invalid block type"),
    Case("huge_integer.json", "JSON: a 5000-digit number, more than int() takes",
         lambda: b'[{"text": "a", "n": ' + b"1" * 5000 + b"}]", records=None,
         expect=r"unreadable JSON after record 0"),
    Case("deep_first_line.json", "JSON sniffed from a first line of 100k nested arrays",
         lambda: _deep_record(100_000) + b'\n{"text": "ok"}\n', records=2, rows=1,
         expect=r"nested more than \d+ levels"),
    Case("typed_columns.parquet", "Parquet: ints, floats, timestamps, decimals, bytes, lists, "
         "structs, dictionary strings", _typed_parquet, records=3, rows=3),
    Case("damaged_utf8.parquet", "Parquet: a string page holding bytes that are not UTF-8",
         lambda: _parquet(pa.table({"text": pa.array([b"ok", b"\xbe\xff", b"ok"]).view("string")})),
         records=3, rows=2, expect=r"unreadable Parquet value: 'utf-8' codec"),
    Case("header_quote_bomb.csv.gz", "gzip bomb: a header quote never closed, 36 MB of lines",
         lambda: _gzip(b'"' + b"a\n" * (17 * MB)), records=None,
         expect=r"line 1: unreadable CSV header: field larger than field limit"),
    Case("epoch_400_digits.csv", "CSV: a created_at of 400 digits (float() makes it inf)",
         lambda: b"text,created_at\nhi," + b"9" * 400 + b"\n", records=1, rows=1),
)  # fmt: skip


def run_case(case: Case, workdir: Path) -> Outcome:
    """Write the case's file and run `comment-audit clean` on it through the real CLI."""
    from typer.testing import CliRunner

    from pipeline.cli import app

    workdir.mkdir(parents=True, exist_ok=True)
    source, output = workdir / case.name, workdir / "out.parquet"
    source.write_bytes(case.data())
    args = ["clean", str(source), "-o", str(output), "--no-progress"]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    rows = pq.ParquetFile(output).metadata.num_rows if output.exists() else 0
    rejects_file = workdir / "out.rejects.jsonl"
    rejects = [json.loads(line) for line in _lines(rejects_file)]
    return Outcome(result.exit_code, rows, len(rejects), _message(result, rejects), rejects)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _message(result, rejects: list[dict]) -> str:
    if result.exit_code != 0:
        errors = [line for line in result.output.splitlines() if line.strip()]
        return " ".join(" ".join(errors).split())
    return "; ".join(dict.fromkeys(r["reason"] for r in rejects))


def matches(case: Case, outcome: Outcome) -> bool:
    return not case.expect or re.search(case.expect, outcome.message) is not None
