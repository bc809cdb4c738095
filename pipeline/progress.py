"""A rich progress bar in rows, with rows/s and an ETA when the input size is known."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

# soft_wrap: a message naming a file stays on one line (greppable, copyable) at any width.
STDERR = Console(stderr=True, soft_wrap=True)


def estimate_rows(path: str | Path) -> int | None:
    """Lines in a plain text file (an upper bound on records); None where it can't be cheap."""
    path = Path(path)
    if str(path) == "-" or not path.is_file() or path.suffix in {".gz", ".parquet"}:
        return _parquet_rows(path) if path.suffix == ".parquet" and path.is_file() else None
    lines = 0
    try:
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                lines += block.count(b"\n")
    except OSError:  # unreadable: the reader will say why, with the file name
        return None
    # CSV and TSV have a header line; JSONL may not end in a newline: both are close enough.
    return max(lines, 1)


def _parquet_rows(path: Path) -> int | None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowException, OSError):  # a damaged file: the reader will say why
        return None


@contextmanager
def row_progress(description: str, total: int | None, enabled: bool = True) -> Iterator:
    """Yields `advance(n)`; draws nothing when disabled or not on a terminal."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, console=STDERR, disable=not enabled, transient=False) as progress:
        task = progress.add_task(description, total=total, rate="-")

        def advance(n: int) -> None:
            progress.advance(task, n)
            speed = progress.tasks[0].speed
            progress.update(task, rate=f"{speed:,.0f}" if speed else "-")

        yield advance
        if total is not None:
            progress.update(task, total=progress.tasks[0].completed)
