"""The background producer keeps order, re-raises its errors and stops with its consumer."""

from __future__ import annotations

import threading

import pytest

from pipeline.prefetch import background


def test_items_arrive_in_order_from_another_thread():
    threads = set()

    def produce():
        for i in range(50):
            threads.add(threading.get_ident())
            yield i

    assert list(background(produce(), depth=3)) == list(range(50))
    assert threading.get_ident() not in threads


def test_a_producer_error_reaches_the_consumer_after_the_good_items():
    def produce():
        yield 1
        raise ValueError("bad row 7")

    got = []
    with pytest.raises(ValueError, match="bad row 7"):
        for item in background(produce()):
            got.append(item)
    assert got == [1]


def test_stopping_early_stops_and_closes_the_producer():
    closed = threading.Event()
    produced = []

    def produce():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    items = background(produce(), depth=1)
    assert next(items) == 0
    items.close()
    assert closed.is_set()
    assert len(produced) <= 3  # it stopped instead of running to the end


def test_stopping_early_does_not_wait_for_a_blocked_producer():
    # Like a reader blocked on a stalled stdin: Ctrl-C must not wait for its next line.
    import time

    from pipeline import prefetch

    released = threading.Event()

    def produce():
        yield 0
        released.wait(30)
        yield 1

    items = background(produce(), depth=1)
    assert next(items) == 0
    start = time.monotonic()
    items.close()
    assert time.monotonic() - start < prefetch.STOP_WAIT_S + 1
    released.set()
