"""Run an iterator in a background thread, a few items ahead of the code consuming it.

Batch scoring reads and cleans the next chunk (Python, holding the GIL) while the model
scores the current one (ONNX Runtime and the Rust tokenizer release the GIL), so the cores
stay busy between forward passes. Items arrive in order; an exception raised while
producing is re-raised in the consumer; if the consumer stops early, the producer stops
after its current item and its iterator is closed. A consumer that stops early waits for
that at most STOP_WAIT_S: a producer blocked on a stalled stdin would otherwise hold Ctrl-C
until the next line arrived (the daemon thread ends with the process).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
STOP_WAIT_S = 1.0


def background(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """Yield `items`, produced by a worker thread at most `depth` items ahead."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    worker = threading.Thread(target=_produce, args=(items, slots, stop), daemon=True)
    worker.start()
    finished = False
    try:
        while (item := slots.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield item
        finished = True
    finally:
        stop.set()
        worker.join(None if finished else STOP_WAIT_S)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _produce(items: Iterable[T], slots: queue.Queue, stop: threading.Event) -> None:
    iterator = iter(items)
    try:
        for item in iterator:
            if not _put(slots, item, stop):
                return
        _put(slots, _DONE, stop)
    except BaseException as e:  # noqa: BLE001 - handed to the consumer, which re-raises it
        _put(slots, _Failure(e), stop)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # a reader generator releases its file here, in the thread that ran it


def _put(slots: queue.Queue, item: object, stop: threading.Event) -> bool:
    """Wait for room unless the consumer has gone; False when it has."""
    while not stop.is_set():
        try:
            slots.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
