"""Give freed heap memory back to the operating system between the big phases of a run.

glibc keeps freed blocks for reuse, so after the scoring loop (its dedup cache, its chunks)
the process still holds the memory, and the export-wide signals step then adds its own
peak on top. Trimming in between lowers the peak RSS of a million-row run by a few hundred MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


def trim() -> None:
    """Collect garbage and return free heap pages to the OS (a no-op without glibc)."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, musl without the symbol)
        return None
