"""Raw records from an opened source: CSV/TSV, JSONL, JSON (streamed with ijson) and Parquet.

Good records come out as `Record(line, values)` with flattened string values; input that is not
a record at all (a ragged CSV row, a JSONL line that is not JSON, a JSON value that is not an
object) comes out as a `Reject`, so every record in the file is accounted for.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain
from typing import IO, TYPE_CHECKING

import ijson

from pipeline.schemas import InputError, Reject, flatten
from pipeline.sources import HEAD_BYTES, MAX_LINE, Source, text_lines

if TYPE_CHECKING:
    import pyarrow as pa  # imported where Parquet is read: CSV and JSON never need it

DELIMITERS = (",", "\t", ";", "|")  # ties go to the earlier one
# Real exports nest 5 levels or so; a record nested deeper is hostile (json.dumps and
# flatten recurse, so 100k nested arrays would blow the stack) and becomes a reject.
MAX_DEPTH = 64
_JSON_TYPES = {"list": "array", "str": "string", "bool": "boolean", "NoneType": "null"}
# One field may be a multi-megabyte comment, but an unclosed quote must not swallow a
# whole 10 GB file into memory: past this the read stops with an error.
csv.field_size_limit(MAX_LINE)
MAX_UNCLOSED = 20
UNCLOSED = "a quoted field opens here and never closes; the lines after it are read as rows"


@dataclass(frozen=True)
class Record:
    line: int  # physical line where the record starts (CSV/JSONL) or record index (JSON/Parquet)
    values: dict[str, str | None]


Item = Record | Reject


class DigitRunError(Exception):
    """A run of digits longer than int() accepts (sys.get_int_max_str_digits(), 4300)."""


class _Utf8(io.RawIOBase):
    """Decoded, NUL-free text re-encoded as UTF-8, so ijson never sees a BOM or a bad byte,
    nor an integer too long for int(): ijson's C backend crashes the process on one (a
    segfault, or a SystemError, depending on where the read buffer splits the number)."""

    def __init__(self, text: IO[str]) -> None:
        self._text, self._buf, self._tail = text, b"", b""
        self._limit = sys.get_int_max_str_digits()  # 0: no limit

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while not self._buf:
            chunk = self._text.read(HEAD_BYTES)
            if not chunk:
                return 0
            self._buf = chunk.replace("\0", "").encode("utf-8", "replace")
            self._check_digits(self._buf)
        n = min(len(buf), len(self._buf))
        buf[:n], self._buf = self._buf[:n], self._buf[n:]
        return n

    def _check_digits(self, chunk: bytes) -> None:
        # Any run counts, inside a string too: telling needs a JSON lexer, and thousands of
        # digits in a row are no comment. Digits become "0" and all else ".", so that a fast
        # bytes.find does the search (a regex costs half the parse); the tail carries a run
        # across chunks.
        if not self._limit:
            return
        probe = self._tail + chunk.translate(_DIGIT_SHAPE)
        if probe.find(b"0" * (self._limit + 1)) >= 0:
            message = f"a number of more than {self._limit} digits, longer than int() takes"
            raise DigitRunError(message)
        self._tail = probe[len(probe.rstrip(b"0")) :]


_DIGIT_SHAPE = bytes(ord("0") if chr(b) in "0123456789" else ord(".") for b in range(256))


def iter_records(source: Source) -> tuple[list[str] | None, Iterator[Item]]:
    """The header (CSV only; JSON columns vary by record) and an iterator over the records."""
    if source.format in ("csv", "tsv"):
        return _csv(source)
    if source.format == "jsonl":
        return None, _jsonl(source)
    if source.format == "json":
        return None, _json(source)
    return None, _parquet(source)


def _csv(source: Source) -> tuple[list[str], Iterator[Item]]:
    lines = text_lines(source)
    first = next(lines, "")
    delimiter = "\t" if source.format == "tsv" else sniff_delimiter(first)
    tape = _Tape(chain([first], lines))
    reader = csv.reader(tape, delimiter=delimiter)
    try:  # a quote opened in the header and never closed reads on up to the field limit
        names = next(reader, [])
    except csv.Error as e:
        raise InputError(source.name, f"unreadable CSV header: {e}", line=1) from e
    tape.take()
    header = _dedupe([h.strip().lstrip("\ufeff") for h in names])
    return header, _csv_rows(reader, tape, header, source.name, delimiter)


class _Tape:
    """The lines a csv reader consumed since the last `take()`. The reader asks for another
    line after the last one only when a quoted field is still open, so `exhausted` before a
    row is returned means that row's quote never closed."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines, self._taken, self.exhausted = lines, [], False

    def __iter__(self) -> _Tape:
        return self

    def __next__(self) -> str:
        try:
            line = next(self._lines)
        except StopIteration:
            self.exhausted = True
            raise
        self._taken.append(line)
        return line

    def take(self) -> list[str]:
        taken, self._taken = self._taken, []
        return taken


def sniff_delimiter(header_line: str) -> str:
    widths = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: widths[d])


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names, 1):
        name = name or f"column_{i}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _csv_rows(reader, tape: _Tape, header: list[str], name: str, delimiter: str) -> Iterator[Item]:
    # A quote that never closes swallows every line after it into one field. That record is
    # rejected and the swallowed lines are read again as rows; each re-read reads to the end
    # of the file, so a file with many unclosed quotes is an error rather than quadratic.
    offset = 0
    for _ in range(MAX_UNCLOSED + 1):
        swallowed = yield from _rows(reader, tape, header, name, delimiter, offset)
        if swallowed is None:
            return
        offset, raw = swallowed
        field = _opening_field(raw[0], header, delimiter)
        yield Reject(name, offset, field, UNCLOSED, raw[0].rstrip("\r\n"))
        tape = _Tape(iter(raw[1:]))
        reader = csv.reader(tape, delimiter=delimiter)
    raise InputError(name, f"more than {MAX_UNCLOSED} quoted fields never close", line=offset)


def _rows(reader, tape: _Tape, header: list[str], name: str, delimiter: str, offset: int):
    """Records and rejects up to the end, or up to a record whose quote never closed: then
    returns (its line, its raw lines)."""
    width, last = len(header), reader.line_num + offset
    # Held by the frame: a generator left open until interpreter exit is closed after module
    # globals are gone, and `except csv.Error` would then raise a TypeError of its own.
    csv_error = csv.Error
    try:
        for row in reader:
            start, last = last + 1, reader.line_num + offset
            raw = tape.take()
            if tape.exhausted and len(raw) > 1:
                return start, raw
            if not row:
                continue  # a blank line is not a record
            if len(row) > width and not any(row[width:]):
                row = row[:width]  # spreadsheet exports pad rows with empty cells
            if len(row) != width:
                field, reason = _ragged(header, row)
                yield Reject(name, start, field, reason, delimiter.join(row))
            else:
                yield Record(start, dict(zip(header, row, strict=True)))
    except csv_error as e:
        raise InputError(name, f"unreadable CSV: {e}", line=reader.line_num + offset + 1) from e
    return None


def _opening_field(line: str, header: list[str], delimiter: str) -> str | None:
    """The column whose quote opens on `line` (the last one that line starts)."""
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return header[len(cells) - 1] if 0 < len(cells) <= len(header) else None


def _ragged(header: list[str], row: list[str]) -> tuple[str, str]:
    """(field, reason) for a CSV row whose width is not the header's: the first column the
    row lacks, or the first cell past the header, so a user can find where it went wrong."""
    width, got = len(header), len(row)
    if got < width:
        missing = header[got:]
        return missing[0], f"expected {width} fields, got {got}; missing {', '.join(missing)}"
    return f"column {width + 1}", f"expected {width} fields, got {got}; cells past the header"


def _jsonl(source: Source) -> Iterator[Item]:
    for number, line in enumerate(text_lines(source), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            value = TOO_DEEP
        except ValueError as e:
            yield Reject(source.name, number, None, _json_reason(e), line.rstrip("\r\n"))
            continue
        yield as_record(source.name, number, value)


def _json_reason(error: ValueError) -> str:
    if "integer string conversion" in str(error):  # valid JSON, but too long for int()
        return f"unreadable JSON: {str(error).split(';')[0]}"  # no advice to set a limit
    return f"invalid JSON: {getattr(error, 'msg', error)} (column {getattr(error, 'colno', '?')})"


class _TooDeep:
    """Stands in for a value nested deeper than MAX_DEPTH, which is never built."""


TOO_DEEP = _TooDeep()


def depth(value: object) -> int:
    """Nesting depth of lists and dicts, iteratively (a recursive walk is what overflows)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))
    return deepest


def as_record(name: str, number: int, value: object) -> Item:
    if value is TOO_DEEP or depth(value) > MAX_DEPTH:
        return Reject(name, number, None, f"record nested more than {MAX_DEPTH} levels deep", "")
    if isinstance(value, dict):
        return Record(number, flatten(value))
    kind = _JSON_TYPES.get(type(value).__name__, "number")
    raw = json.dumps(value, ensure_ascii=False, default=str)
    return Reject(
        name,
        number,
        None,
        f"record is not a JSON object but {'an' if kind == 'array' else 'a'} {kind}",
        raw,
    )


def _json(source: Source) -> Iterator[Item]:
    text = io.TextIOWrapper(source.stream, source.encoding, errors="replace", newline="")
    number = 0
    try:
        for number, value in enumerate(json_values(io.BufferedReader(_Utf8(text))), 1):
            yield as_record(source.name, number, value)
    except ijson.JSONError as e:
        raise InputError(source.name, f"invalid JSON after record {number}: {e}") from e
    except DigitRunError as e:
        raise InputError(source.name, f"unreadable JSON after record {number}: {e}") from e


def json_values(stream: IO[bytes]) -> Iterator[object]:
    """Records of each top-level JSON value: the items of an array, the items of the first
    array of objects inside an object ({"items": [...]}, {"data": [...]}), else the object."""
    # basic_parse, not parse: parse builds a prefix string per nesting level, so 100k nested
    # arrays cost gigabytes; nothing here needs the prefixes.
    events = ijson.basic_parse(stream, multiple_values=True)
    for event, value in events:
        if event == "start_array":
            yield from _items(events)
        elif event == "start_map":
            yield from _object(events)
        else:
            yield value


def _items(events: Iterator) -> Iterator[object]:
    for event, value in events:
        if event == "end_array":
            return
        yield _build(events, (event, value))


def _object(events: Iterator) -> Iterator[object]:
    meta: dict[str, object] = {}
    found = False
    for _map_key, key in events:
        if _map_key == "end_map":
            break
        event, value = next(events)
        if event != "start_array" or found:
            meta[key] = _build(events, (event, value))
            continue
        first, first_value = next(events)
        # An array of objects holds the records; {"items": []} is an empty page of them.
        if first == "start_map" or (first == "end_array" and key in ("items", "data")):
            found = True
            if first == "start_map":
                yield _build(events, (first, first_value))
                yield from _items(events)
        else:
            meta[key] = _build(events, ("start_array", None), (first, first_value))
    if not found:
        yield TOO_DEEP if any(v is TOO_DEEP for v in meta.values()) else meta


def _build(events: Iterator, *first: tuple[str, object]) -> object:
    """One complete JSON value from the event stream, starting with the events in `first`;
    TOO_DEEP (read to its end, never built) when nested deeper than MAX_DEPTH."""
    builder, level, deepest = ijson.ObjectBuilder(), 0, 0
    for event, value in chain(first, events):
        level += event in ("start_map", "start_array")
        level -= event in ("end_map", "end_array")
        deepest = max(deepest, level)
        if deepest <= MAX_DEPTH:
            builder.event(event, value)
        if level == 0:
            return builder.value if deepest <= MAX_DEPTH else TOO_DEEP
    raise ijson.IncompleteJSONError("unexpected end of input")


def _parquet(source: Source) -> Iterator[Item]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with ExitStack() as stack:
        target = source.file or _spool(source.stream, stack)
        try:
            batches = pq.ParquetFile(target).iter_batches(batch_size=4096)
            rows = (row for batch in batches for row in _batch_rows(batch))
            for number, row in enumerate(rows, 1):
                if isinstance(row, _BadValue):
                    reason = f"unreadable Parquet value: {row.error}"
                    yield Reject(source.name, number, row.column, reason, "")
                else:
                    yield as_record(source.name, number, row)
        # ValueError: a footer that names a column in bytes that are not UTF-8.
        except (pa.ArrowException, OSError, ValueError) as e:
            raise InputError(source.name, f"unreadable Parquet: {e}") from e


# What turning one stored value into Python can raise: invalid UTF-8 in a string column
# (UnicodeDecodeError), a date or timestamp outside Python's years 1-9999 (OverflowError,
# ValueError). Parquet has no checksum by default, so a damaged page holds such values.
_VALUE_ERRORS = (ValueError, OverflowError)


@dataclass(frozen=True)
class _BadValue:
    column: str
    error: Exception


def _batch_rows(batch: pa.RecordBatch) -> list[dict | _BadValue]:
    """The batch's rows as dicts; where a value cannot be converted, that row alone becomes
    a _BadValue (the first such column) and the rest of the batch is still read."""
    try:
        return batch.to_pylist()
    except _VALUE_ERRORS:
        return [_row(batch, i) for i in range(batch.num_rows)]


def _row(batch: pa.RecordBatch, i: int) -> dict | _BadValue:
    row = {}
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        try:
            row[name] = column[i].as_py()
        except _VALUE_ERRORS as e:
            return _BadValue(name, e)
    return row


def _spool(stream: IO[bytes], stack: ExitStack) -> IO[bytes]:
    # Parquet keeps its index at the end, so stdin or gzip input goes to a temp file first.
    spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed by the stack)
    shutil.copyfileobj(stream, spool)
    spool.seek(0)
    return spool
