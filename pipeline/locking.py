"""One run per output: a lock file next to the output, taken without waiting.

Two runs writing the same output would interleave checkpoint parts or overwrite each other's
report files. The second run is refused at once with a message naming the output, rather
than blocking. The lock is an OS file lock (filelock): it is released when the holder exits,
even by kill -9, so a lock file left behind never blocks the next run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.schemas import InputError


class OutputBusy(InputError):
    """Another run holds the lock of this output (the CLI exits 2)."""


def lock_path(output: str | Path) -> Path:
    # Absolute first: `-o .` has no name of its own, its absolute path has.
    output = Path(output).absolute()
    return output.with_name(f".{output.name}.lock") if output.name else output / ".lock"


@contextmanager
def exclusive(output: str | Path) -> Iterator[Path]:
    """Hold `output`'s lock for the block, or raise OutputBusy if another run holds it."""
    path = lock_path(output)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        _writable(path, output)  # filelock also says Timeout when it cannot create the file
        message = (
            f"another comment-audit run is writing this output now (lock file {path}); wait"
            " for that run to finish, or pass another --output"
        )
        raise OutputBusy(str(output), message) from None
    except OSError as e:  # a lock path that is a directory, say
        raise InputError(str(output), f"cannot write next to the output ({path}: {e})") from None
    try:
        yield path
    finally:
        lock.release()


def _writable(path: Path, output: str | Path) -> None:
    try:
        with open(path, "a"):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise InputError(
            str(output), f"cannot write next to the output ({path}: {reason})"
        ) from None
