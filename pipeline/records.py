"""Raw records from an opened source: CSV/TSV and Parquet here, JSONL and JSON (streamed with
ijson) in `pipeline.json_records`.

Good records come out as `Record(line, values)` with flattened string values; input that is not
a record at all (a ragged CSV row, a JSONL line that is not JSON, a JSON value that is not an
object) comes out as a `Reject`, so every record in the file is accounted for.
"""

from __future__ import annotations

import csv
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import chain, count
from typing import IO, TYPE_CHECKING

from pipeline.json_records import as_records, json_records, jsonl_records
from pipeline.schemas import InputError, Item, Record, Reject
from pipeline.sources import MAX_LINE, Source, text_lines

if TYPE_CHECKING:
    import pyarrow as pa  # imported where Parquet is read: CSV and JSON never need it

DELIMITERS = (",", "\t", ";", "|")  # ties go to the earlier one
# One field may be a multi-megabyte comment, but an unclosed quote must not swallow a
# whole 10 GB file into memory: past this the read stops with an error.
csv.field_size_limit(MAX_LINE)
MAX_UNCLOSED = 20
EXCEL_SEP = re.compile(r'"?sep=(.)"?\s*$', re.IGNORECASE)
UNCLOSED = "a quoted field opens here and never closes; the lines after it are read as rows"
TOO_LONG = (
    f"a quoted field opens here and runs past {MAX_LINE // 2**20} Mi characters (a quote that"
    " never closes?); the lines after it are read as rows"
)


def iter_records(source: Source) -> tuple[list[str] | None, Iterator[Item]]:
    """The header (CSV only; JSON columns vary by record) and an iterator over the records."""
    if source.format in ("csv", "tsv"):
        return _csv(source)
    if source.format == "jsonl":
        return None, jsonl_records(source)
    if source.format == "json":
        return None, json_records(source)
    return None, _parquet(source)


def _csv(source: Source) -> tuple[list[str], Iterator[Item]]:
    lines = text_lines(source)
    first, skipped = _content(lines, next(lines, ""), 0)  # blank lines above the header
    delimiter = "\t" if source.format == "tsv" else sniff_delimiter(first)
    if excel := EXCEL_SEP.match(first.lstrip("\ufeff")):  # Excel's "sep=;" line names it
        delimiter = excel[1]
        first, skipped = _content(lines, next(lines, ""), skipped + 1)
    tape = _Tape(chain([first], lines))
    reader = csv.reader(tape, delimiter=delimiter)
    try:  # a quote opened in the header and never closed reads on up to the field limit
        names = next(reader, [])
    except csv.Error as e:
        raise InputError(source.name, f"unreadable CSV header: {e}", line=skipped + 1) from e
    tape.take()
    names = [h.strip().lstrip("\ufeff") for h in names]
    header = _dedupe(names)
    # A header ending in a delimiter ("text,label,") has blank names that rows may lack.
    optional = next((i for i, n in enumerate(reversed(names)) if n), len(names))
    rows = _csv_rows(reader, tape, Header(header, optional), source.name, delimiter, skipped)
    return header, rows


def _content(lines: Iterator[str], line: str, skipped: int) -> tuple[str, int]:
    """The first line from `line` on that is not blank, and how many lines were skipped."""
    while line and not line.strip("\ufeff \t\r\n"):
        line, skipped = next(lines, ""), skipped + 1
    return line, skipped


@dataclass(frozen=True)
class Header:
    names: list[str]
    optional: int = 0  # trailing blank-named columns a row may leave out


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

    def rest(self) -> Iterator[str]:
        """The lines not read yet."""
        return self._lines

    def take(self) -> list[str]:
        taken, self._taken = self._taken, []
        return taken


def sniff_delimiter(header_line: str) -> str:
    widths = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: widths[d])


def _dedupe(names: list[str]) -> list[str]:
    """Unique column names: a blank one becomes column_<i>, a repeated one <name>_2, _3, ...,
    never a name the header has itself (`text,text,text_2` keeps all three columns)."""
    out: list[str] = []
    for i, name in enumerate(names, 1):
        if name and name not in out:
            out.append(name)
            continue
        base = name or f"column_{i}"
        tried = chain([base] if not name else [], (f"{base}_{k}" for k in count(2)))
        out.append(next(c for c in tried if c not in out and c not in names))
    return out


def _csv_rows(
    reader, tape: _Tape, header: Header, name: str, delimiter: str, offset: int = 0
) -> Iterator[Item]:
    # A quote that never closes swallows every line after it into one field. That record is
    # rejected and the swallowed lines are read again as rows; each re-read reads to the end
    # of the file, so a file with many unclosed quotes is an error rather than quadratic.
    # `offset`: the lines above the header, not counted by the reader.
    for _ in range(MAX_UNCLOSED + 1):
        swallowed = yield from _rows(reader, tape, header, name, delimiter, offset)
        if swallowed is None:
            return
        offset, raw, rest, reason = swallowed
        field = _opening_field(raw[0], header.names, delimiter)
        yield Reject(name, offset, field, reason, raw[0].rstrip("\r\n"))
        tape = _Tape(chain(raw[1:], rest))
        reader = csv.reader(tape, delimiter=delimiter)
    raise InputError(name, f"more than {MAX_UNCLOSED} quoted fields never close", line=offset)


def _rows(reader, tape: _Tape, header: Header, name: str, delimiter: str, offset: int):
    """Records and rejects up to the end, or up to a record whose quote never closed (or ran
    past the field limit, as an unclosed quote in a big file does): then returns its line,
    its raw lines, the lines not read yet and the reason."""
    names = header.names
    width, last = len(names), reader.line_num + offset
    # Held by the frame: a generator left open until interpreter exit is closed after module
    # globals are gone, and `except csv.Error` would then raise a TypeError of its own.
    csv_error = csv.Error
    try:
        for row in reader:
            start, last = last + 1, reader.line_num + offset
            raw = tape.take()
            if tape.exhausted and len(raw) > 1:
                return start, raw, iter(()), UNCLOSED
            if not row:
                continue  # a blank line is not a record
            if len(row) > width and not any(row[width:]):
                row = row[:width]  # spreadsheet exports pad rows with empty cells
            if width - header.optional <= len(row) < width:
                row = row + [""] * (width - len(row))
            if len(row) != width:
                field, reason = _ragged(names, row)
                yield Reject(name, start, field, reason, delimiter.join(row))
            else:
                yield Record(start, dict(zip(names, row, strict=True)))
    except csv_error as e:
        if "field larger than field limit" in str(e) and len(raw := tape.take()) > 1:
            return last + 1, raw, tape.rest(), TOO_LONG
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
                    yield from as_records(source.name, number, row)
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
