"""Reading back a table that `comment-audit score` wrote: Parquet (one file, or the directory
of parts the Ray engine writes), or a CSV/TSV/JSONL copy of it, gzipped or not.

A text copy is read as the table it was written from, not as a new export: source_file,
source_line and created_at_raw stay the original's, a column of text stays text (a 20-digit
id or "00123" is no number), and only the columns `score` writes as numbers or flags get
those types back. So `report` sees the same table whichever format it is given.
"""

from __future__ import annotations

import io
import json
from contextlib import ExitStack
from functools import cache
from pathlib import Path

import pandas as pd

from pipeline.schemas import InputError
from pipeline.sources import Source, open_source, text_lines
from pipeline.values import restore_types
from pipeline.writers import FORMULA_CHARS

_FLOATS = frozenset({"upper_ratio", "burst_span_s", "author_generic_share", "burst_generic_share"})
_TEXTS = frozenset({"lang", "cluster_id"})  # among the feature and signal columns
# Never null in a scored table but often "", which CSV cannot tell from a missing value.
_NEVER_NULL = frozenset({"clean_text", "dedup_key", "reasons", "verdict_reason"})
_GUARD = rf"^'(?='*[{FORMULA_CHARS}])"  # the quote writers.guard_formulas puts before a formula
_NOT_SCORED = "not the output of `comment-audit score`"


def read_scored(
    path: str | Path, required: tuple[str, ...] = ("pred_label", "text")
) -> pd.DataFrame:
    """A table written by `comment-audit score`; InputError naming the file for anything else."""
    path = Path(path)
    if str(path) != "-" and not path.exists():
        raise InputError(path, "no such file or directory")
    frame = _read_parquet(path) if path.is_dir() or path.suffix == ".parquet" else _read_text(path)
    if missing := [c for c in required if c not in frame.columns]:
        what = "no rows" if frame.empty else "column(s) " + ", ".join(missing) + " missing"
        raise InputError(path, f"{_NOT_SCORED} ({what}); score it first")
    return frame


def _read_text(path: Path) -> pd.DataFrame:
    with ExitStack() as stack:
        source = open_source(path, stack)
        if source.format == "parquet":  # a gzipped or renamed Parquet file: it needs seeking
            return pd.read_parquet(io.BytesIO(source.stream.read()))
        if source.format == "jsonl":
            return _typed(_jsonl(source))
        if source.format in ("csv", "tsv"):
            return _typed(_unguarded(_csv(source)))
    raise InputError(path, f"{_NOT_SCORED} (a JSON document); score it first")


def _csv(source: Source) -> pd.DataFrame:
    text = io.TextIOWrapper(source.stream, source.encoding, errors="replace", newline="")
    sep = "\t" if source.format == "tsv" else ","
    try:  # every cell as text: the types come from the column names (_typed)
        return pd.read_csv(text, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as e:
        raise InputError(source.name, f"unreadable CSV: {e}") from e


def _jsonl(source: Source) -> pd.DataFrame:
    rows = []
    for number, line in enumerate(text_lines(source), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError) as e:
            raise InputError(source.name, f"{_NOT_SCORED}: {e}", line=number) from e
        if not isinstance(rows[-1], dict):
            raise InputError(source.name, f"{_NOT_SCORED}: not a JSON object", line=number)
    return pd.DataFrame(rows)


def _unguarded(frame: pd.DataFrame) -> pd.DataFrame:
    """The CSV writer's formula guard undone, so a text "+1" reads back as "+1"."""
    texts = pd.api.types.is_string_dtype
    out = {c: v.str.replace(_GUARD, "", regex=True) if texts(v) else v for c, v in frame.items()}
    columns = pd.Index(frame.columns).str.replace(_GUARD, "", regex=True)
    return pd.DataFrame(out, index=frame.index).set_axis(columns, axis=1)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({c: _column(c, frame[c]) for c in frame.columns}, index=frame.index)


def _column(name: str, values: pd.Series) -> pd.Series:
    if name == "source_line" or name in _numeric_columns():
        return _restored(values, integer=name not in _FLOATS and not name.startswith("p_"))
    if name.startswith("p_"):
        return _restored(values, integer=False)
    strings = values.astype("string")
    return strings.fillna("") if name in _NEVER_NULL else strings


def _restored(values: pd.Series, integer: bool) -> pd.Series:
    """Numbers or flags as the writer typed them (non-null ones as plain int64/bool); a column
    holding anything else stays text rather than be coerced to nulls."""
    if values.isna().all():
        return values.astype("Int64" if integer else "float64")
    typed = restore_types(values)
    if typed is values:
        return values.astype("string")
    if isinstance(typed.dtype, pd.BooleanDtype) or (integer and (typed.dropna() % 1 == 0).all()):
        typed = typed.astype("boolean" if isinstance(typed.dtype, pd.BooleanDtype) else "Int64")
        return typed if typed.isna().any() else typed.astype(typed.dtype.numpy_dtype)
    return typed.astype("float64")


@cache
def _numeric_columns() -> frozenset[str]:
    """The feature and signal columns `score` writes as numbers or flags."""
    from pipeline import behaviour, clean, signals  # heavy: only a text copy needs them

    names = {*clean.FEATURE_NAMES, *signals.SIGNAL_COLUMNS, *behaviour.ROW_COLUMNS}
    return frozenset(names - _TEXTS)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        if path.is_file():
            return pd.read_parquet(path)
        parts = [str(f) for f in _parts(path)]
        dataset = ds.dataset(
            parts, format="parquet", partitioning="hive", partition_base_dir=str(path)
        )
        return dataset.to_table().to_pandas()
    except (pa.ArrowException, OSError) as e:
        raise InputError(path, f"not a readable Parquet table: {e}") from e


def _parts(directory: Path) -> list[Path]:
    """The Parquet files of a directory of parts. Hidden files and a resumable run's
    checkpoint parts (NAME.parquet.parts/) are not rows of the table."""
    files = sorted(
        f for f in directory.rglob("*.parquet") if not _skipped(f.relative_to(directory))
    )
    if not files:
        raise InputError(directory, "no .parquet files in this directory")
    return files


def _skipped(relative: Path) -> bool:
    return any(p.startswith((".", "_")) or p.endswith(".parts") for p in relative.parts)
