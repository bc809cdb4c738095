"""Read comment exports as canonical chunks, keep every unusable record, write tables atomically.

`read_chunks` streams any supported export (CSV/TSV, JSON, JSONL, Parquet, gzipped or not, a
path or "-" for stdin) as DataFrames of at most `chunk_size` rows, so a 10-million-row file
never sits in memory. Each input record ends either in a chunk or in the `RejectSink`.
See docs/formats.md for the formats, the known schemas and the --map syntax.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import asdict
from functools import cache
from pathlib import Path

import pandas as pd

from pipeline.records import iter_records
from pipeline.schemas import (
    CANONICAL,
    EXTRA,
    InputError,
    Item,
    Plan,
    Record,
    Reject,
    Shortcode,
    detect_schema,
    get_schema,
    make_plan,
    parse_mapping,
    shortcode,
)
from pipeline.scored_io import read_scored
from pipeline.sources import READ_ERRORS, open_source
from pipeline.values import label_reason, parse_labels, parse_timestamps
from pipeline.writers import TableWriter, write_table

__all__ = [
    "CANONICAL",
    "InputError",
    "Reject",
    "RejectSink",
    "TableWriter",
    "detect_schema",
    "parse_mapping",
    "read_chunks",
    "read_scored",
    "write_table",
]
log = logging.getLogger(__name__)


@cache
def _reserved() -> frozenset[str]:
    """Every column a scored table adds: a passthrough of that name (a `lang` column of an X
    export, a rescored file's `n_chars`) would give the output two columns of one name."""
    from pipeline import clean, export_signals, verdict

    added = ("clean_text", "dedup_key", "pred_label", "reasons", *clean.FEATURE_NAMES)
    return frozenset({*CANONICAL, *EXTRA, *added, *export_signals.COLUMNS, *verdict.COLUMNS})


def _taken(name: str) -> bool:
    # p_* are the model heads' columns (p_spam, p_generic; a resumed run reads them back).
    return name in _reserved() or name.startswith("p_")


class RejectSink:
    """Collects rejected records. Without a path they stay in `.rejects` until `write(path)`;
    with a path they stream to it (JSONL, or CSV by extension) and only the first `keep` stay
    in memory. As a context manager it commits on success and leaves no file on an error."""

    def __init__(self, path: str | Path | None = None, *, keep: int = 1000) -> None:
        self.path, self.count, self.rejects = path, 0, []
        self._keep = keep if path is not None else None
        self._pending: list[Reject] = []
        self._writer = TableWriter(path) if path is not None else None

    def add(self, reject: Reject) -> None:
        self.count += 1
        if self._keep is None or len(self.rejects) < self._keep:
            self.rejects.append(reject)
        if self._writer is not None:
            self._pending.append(reject)
            if len(self._pending) >= 1000:
                self._flush()

    def _flush(self) -> None:
        self._writer.write(rejects_frame(self._pending))
        self._pending = []

    def write(self, path: str | Path) -> int:
        """Write every collected reject to `path` atomically; returns how many."""
        if self._writer is not None:
            raise ValueError(f"this sink streams to {self.path}; call close() instead")
        return write_table([rejects_frame(self.rejects)], path)

    def close(self) -> None:
        if self._writer is not None:
            self._flush()
            self._writer.commit()

    def __enter__(self) -> RejectSink:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        elif self._writer is not None:
            self._writer.abort()


def rejects_frame(rejects: list[Reject]) -> pd.DataFrame:
    frame = pd.DataFrame(
        [asdict(r) for r in rejects], columns=["file", "line", "field", "reason", "raw"]
    )
    return frame.astype(
        {"line": "Int64", **dict.fromkeys(["file", "field", "reason", "raw"], "string")}
    )


def read_chunks(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    chunk_size: int = 10_000,
    rejects: RejectSink | None = None,
    schema: str | None = None,
) -> Iterator[pd.DataFrame]:
    """Canonical chunks of at most `chunk_size` rows; unusable records go to `rejects`."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    sink = rejects if rejects is not None else RejectSink()
    # Held by the frame: a generator left open until interpreter exit is closed after module
    # globals are gone, and `except None` would raise a TypeError of its own.
    read_errors = READ_ERRORS
    with ExitStack() as stack:
        source = open_source(path, stack)
        header, items = iter_records(source)
        chunker = _Chunker(source.name, source.stem, dict(mapping or {}), schema)
        if header is not None:
            chunker.plan_for(header)
        try:
            yield from chunker.chunks(items, chunk_size, sink)
        except read_errors as e:  # a truncated or corrupt gzip stream, a disk error mid-file
            message = f"cannot read past record {chunker.seen} (truncated or corrupt?): {e}"
            raise InputError(source.name, message, line=chunker.line) from e
    if rejects is None and sink.count:
        log.warning("%s: %d records rejected (pass a RejectSink to keep them)", path, sink.count)


class _Chunker:
    """Turns batches of raw records into canonical frames with one plan for the whole file."""

    def __init__(self, name: str, stem: str | None, mapping: dict[str, str], schema: str | None):
        self.name, self.stem, self.mapping, self.schema = name, stem, mapping, schema
        self.plan: Plan | None = None
        self.columns: dict[str, None] = {}  # every column seen so far, in order of appearance
        self.seen = 0  # records read so far, for messages
        self.line: int | None = None  # where the last record read starts, for messages
        self.passthrough: list[str] = []  # grows, so a column once seen stays in later chunks
        self.renamed: dict[str, str] = {}  # input column -> its passthrough name, fixed per file

    def plan_for(self, columns: list[str]) -> None:
        """Plan for the columns seen so far. JSON records differ in their keys, so a chunk that
        brings new ones plans again (the schema stays the one first detected): a label that
        first turns up in record 20,001 still fills `label` rather than a passthrough column."""
        self.columns.update(dict.fromkeys(columns))
        self.schema = self.schema or detect_schema(self.columns)
        schema = get_schema(self.schema, self.name)
        self.plan = make_plan(schema, list(self.columns), self.mapping, self.name, self.stem)

    def chunks(self, items: Iterator[Item], size: int, sink: RejectSink) -> Iterator[pd.DataFrame]:
        batch: list[Record] = []
        for item in items:
            self.seen, self.line = self.seen + 1, item.line
            if isinstance(item, Reject):
                sink.add(item)
                continue
            batch.append(item)
            if len(batch) >= size:
                yield from self._frame(batch, sink)
                batch = []
        if batch:
            yield from self._frame(batch, sink)

    def _frame(self, batch: list[Record], sink: RejectSink) -> Iterator[pd.DataFrame]:
        # An explicit index: records without a single field ({}) would give no rows at all.
        index = pd.RangeIndex(len(batch))
        raw = _without_nul(pd.DataFrame([r.values for r in batch], index=index).astype("string"))
        if self.plan is None or not self.columns.keys() >= set(raw.columns):
            self.plan_for(list(raw.columns))
        frame, bad = self._canonical(raw, batch)
        for reject in bad:
            sink.add(reject)
        if len(frame):
            yield frame

    def _canonical(self, raw: pd.DataFrame, batch: list[Record]) -> tuple[pd.DataFrame, list]:
        texts = _unstructured(raw, batch, self.plan)
        out = {name: self._field(texts if name == "text" else raw, name) for name in CANONICAL}
        stamps = parse_timestamps(out["created_at"])
        out["created_at"], out["created_at_raw"] = stamps, out["created_at"].where(stamps.isna())
        out["source_file"] = pd.Series(self.name, index=raw.index, dtype="string")
        out["source_line"] = pd.Series([r.line for r in batch], index=raw.index, dtype="int64")
        given, out["label"] = out["label"], parse_labels(out["label"])
        no_text = out["text"].isna()
        bad_label = (out["label"] == "?").fillna(False) & ~no_text
        out["label"] = out["label"].where(~bad_label)
        rejects = self._rejects(batch, no_text, "text", lambda i: _no_text(batch[i], self.plan))
        rejects += self._rejects(batch, bad_label, "label", lambda i: label_reason(given[i]))
        frame = pd.DataFrame(out, columns=[*CANONICAL, *EXTRA]).join(self._extra(raw))
        return frame[~(no_text | bad_label)].reset_index(drop=True), rejects

    def _field(self, raw: pd.DataFrame, name: str) -> pd.Series:
        result = pd.Series(pd.NA, index=raw.index, dtype="string")
        if name in self.plan.constants:
            return result.fillna(self.plan.constants[name])
        for spec in reversed(self.plan.sources[name]):  # the first candidate wins, so it goes last
            if isinstance(spec, Shortcode):
                values = raw.get(spec.column, result)
                values = values.map(shortcode, na_action="ignore").astype("string")
            else:
                values = raw.get(spec, result)
            result = values.where((values.str.strip() != "").fillna(False), result)
        return result

    def _extra(self, raw: pd.DataFrame) -> pd.DataFrame:
        kept = [c for c in raw.columns if c not in self.plan.consumed]
        for column in kept:
            if column not in self.renamed:
                self.renamed[column] = self._passthrough_name(column)
                self.passthrough.append(self.renamed[column])
        frame = raw[kept].rename(columns=self.renamed)
        return frame.reindex(columns=self.passthrough).astype("string")

    def _passthrough_name(self, column: str) -> str:
        # "source_file" becomes "input_source_file"; should that name be taken by another
        # column (this file has both), the prefix repeats: two columns never share a name.
        name = column
        while _taken(name) or name in self.passthrough:
            name = f"input_{name}"
        return name

    def _rejects(self, batch: list[Record], mask: pd.Series, field: str, reason) -> list[Reject]:
        return [
            Reject(self.name, batch[i].line, field, reason(i), _raw(batch[i]))
            for i in mask[mask].index
        ]


def _unstructured(raw: pd.DataFrame, batch: list[Record], plan: Plan) -> pd.DataFrame:
    """`raw` without the empty JSON arrays and objects in text columns: {"text": []} has no
    text (it would read as "[]"); the next text candidate, if any, is used instead."""
    columns = {c for c in plan.sources["text"] if isinstance(c, str)}
    cells = [(i, c) for i, r in enumerate(batch) for c in r.empty_json & columns]
    if not cells:
        return raw
    raw = raw.copy()
    for i, column in cells:
        raw.at[i, column] = pd.NA
    return raw


def _no_text(record: Record, plan: Plan) -> str:
    if record.empty_json & {c for c in plan.sources["text"] if isinstance(c, str)}:
        return "text is an empty JSON array or object ([] or {}), not a string"
    return "empty text"


def _without_nul(raw: pd.DataFrame) -> pd.DataFrame:
    """NUL characters removed: the byte readers drop NUL bytes, but JSON can escape them
    ("\\u0000") and Parquet can hold them, and they are never meaningful in a comment."""
    for column in raw.columns:
        if raw[column].str.contains("\x00", regex=False).any():
            raw[column] = raw[column].str.replace("\x00", "", regex=False)
    return raw


def _raw(record: Record) -> str:
    return json.dumps(record.values, ensure_ascii=False)
