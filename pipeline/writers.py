"""Atomic table writers: Parquet, CSV/TSV and JSONL (optionally gzipped), chosen by extension.

Everything is written to a hidden temp file in the target directory and moved into place with
os.replace, so a reader never sees half a file and a failed run leaves the old file (or
nothing) behind. CSV cells that a spreadsheet would run as a formula get a leading quote.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import InputError

log = logging.getLogger(__name__)
FORMATS = {
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
# A formula's first character, after any quotes: a text that already starts with "'+" gets its
# quote too, so that reading back (scored_io) removes exactly the one added here.
FORMULA_CHARS = "=+\\-@\t\r"  # as a regex character class: a spreadsheet formula's start
_FORMULA = re.compile(rf"'*[{FORMULA_CHARS}]")


def output_format(path: str | Path) -> tuple[str, bool]:
    """(format, gzipped) for an output path, or an InputError naming the supported endings."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2 if gz else -1] if len(suffixes) > gz else ""
    fmt = FORMATS.get(ext)
    if fmt is None or (gz and fmt == "parquet"):
        known = ", ".join(FORMATS) + " (text formats also with .gz)"
        raise InputError(
            str(path), f"unsupported output format '{ext or Path(path).name}'; use {known}"
        )
    return fmt, gz


def guard_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix ' to text cells (and headers) starting with = + - @ tab or CR (CSV injection)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        # The dtype's test (not the values'): object, "string" and Arrow strings alike.
        if pd.api.types.is_string_dtype(values.dtype):
            out[column] = values.map(_guard_cell)
    out.columns = [_guard_cell(c) for c in out.columns]
    return out


def _guard_cell(value: object) -> object:
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


class TableWriter:
    """Streams DataFrames into one file; `commit` moves it into place, `abort` removes it.

    Columns are fixed by the first frame for CSV and Parquet: later frames are aligned to them,
    and columns that only turn up later are dropped with a warning (JSONL keeps everything).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.format, self.gzip = output_format(self.path)
        self.rows = 0
        self.columns: list[str] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        # O_EXCL: never clobber; mode 0o666 lets the umask decide, like a normal open().
        fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._raw: IO[bytes] = os.fdopen(fd, "wb")
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0) if self.gzip else None
        binary = self._gz or self._raw
        self._text = (
            None if self.format == "parquet" else io.TextIOWrapper(binary, "utf-8", newline="")
        )
        self._done = self._header_done = False

    def write(self, frame: pd.DataFrame) -> None:
        if self._done:
            raise ValueError(f"{self.path}: writer already closed")
        frame = self._align(frame)
        if self.format == "parquet":
            self._write_parquet(frame)
        elif self.format == "jsonl":
            if len(frame):
                # pandas' default, 10 decimals, writes a p_spam of 3e-12 as 0.0; 15 is its most.
                text = frame.to_json(
                    orient="records", lines=True, force_ascii=False, double_precision=15
                )
                self._text.write(text if text.endswith("\n") else text + "\n")
        else:
            self._write_csv(frame)
        self.rows += len(frame)

    def _align(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
            return frame
        if self.format == "jsonl":
            return frame
        extra = [c for c in frame.columns if c not in self.columns]
        if extra:
            log.warning(
                "%s: dropping columns first seen after the first chunk: %s", self.path, extra
            )
        return frame.reindex(columns=self.columns)

    def _write_csv(self, frame: pd.DataFrame) -> None:
        sep = "\t" if self.format == "tsv" else ","
        # CRLF rows (RFC 4180): the csv module quotes only fields holding terminator characters,
        # so with a bare "\n" terminator a text with a lone "\r" would be written unquoted.
        guard_formulas(frame).to_csv(
            self._text, sep=sep, index=False, header=not self._header_done, lineterminator="\r\n"
        )
        self._header_done = True

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        if self._schema is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            # An all-null first chunk would otherwise fix the column type to null for good.
            fields = [
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema
            ]
            self._schema = pa.schema(fields, metadata=table.schema.metadata)
            self._parquet = pq.ParquetWriter(self._raw, self._schema)
        table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
        self._parquet.write_table(table)

    def commit(self) -> int:
        """Finish the file and move it into place; returns the rows written."""
        if self._done:
            return self.rows
        if self.format == "parquet" and self._parquet is None:
            self._write_empty_parquet()
        self._close()
        try:
            os.replace(self._tmp, self.path)
        except OSError:  # the target is a directory, say: leave no temp file behind
            self._tmp.unlink(missing_ok=True)
            raise
        return self.rows

    close = commit

    def _write_empty_parquet(self) -> None:
        schema = pa.schema([(c, pa.string()) for c in self.columns or []])
        pq.write_table(schema.empty_table(), self._raw)

    def abort(self) -> None:
        """Drop everything written; the target path is left untouched."""
        if not self._done:
            self._close()
        self._tmp.unlink(missing_ok=True)

    def _close(self) -> None:
        self._done = True
        if self._parquet is not None:
            self._parquet.close()
        if self._text is not None:
            self._text.flush()
            self._text.detach()  # leaves the gzip layer open so it can write its trailer
        if self._gz is not None:
            self._gz.close()
        if not self._raw.closed:
            self._raw.flush()
            os.fsync(self._raw.fileno())
            self._raw.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def write_table(frames: Iterable[pd.DataFrame], path: str | Path) -> int:
    """Write all frames to `path` atomically (format by extension); returns rows written."""
    with TableWriter(path) as writer:
        for frame in frames:
            writer.write(frame)
    return writer.rows
