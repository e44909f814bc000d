"""db.read_ahead: batches fetched by a thread ahead of their consumer, which stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from pro_server.db import read_ahead


def _batches(count: int, size: int = 3) -> tuple[Callable[[], Sequence[int]], list[int]]:
    """A fetch of `count` batches then an empty one; and the list of fetches made."""
    calls: list[int] = []

    def fetch() -> Sequence[int]:
        n = len(calls)
        calls.append(n)
        return list(range(n * size, (n + 1) * size)) if n < count else []

    return fetch, calls


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read_ahead"]


def _reached(calls: list[int], count: int, timeout: float = 10) -> bool:
    """Whether the reader has made `count` fetches (waiting for a busy machine's thread)."""
    deadline = time.monotonic() + timeout
    while len(calls) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(calls) >= count


def test_every_item_in_order_and_the_thread_ends():
    fetch, calls = _batches(5)
    assert list(read_ahead(fetch, depth=2)) == list(range(15))
    assert len(calls) == 6  # the empty batch ended them
    assert _readers() == []


def test_the_thread_reads_at_most_depth_batches_ahead():
    fetch, calls = _batches(100)
    rows = read_ahead(fetch, depth=2)
    assert next(rows) == 0
    # one batch with the consumer, two in the queue, one waiting to be queued
    assert _reached(calls, 4)
    time.sleep(0.3)
    assert len(calls) == 4
    rows.close()
    assert _readers() == []


def test_closed_early_the_thread_stops_and_never_fetches_again():
    fetch, calls = _batches(100)
    rows = read_ahead(fetch, depth=2)
    assert [next(rows) for _ in range(4)] == [0, 1, 2, 3]
    rows.close()
    assert _readers() == []  # joined before close() returned
    fetched = len(calls)
    time.sleep(0.2)
    assert len(calls) == fetched < 100


def test_an_error_of_the_consumer_stops_the_thread():
    fetch, calls = _batches(100)

    def consume() -> None:
        for n in read_ahead(fetch, depth=2):
            if n == 5:
                raise ValueError("the writer failed")

    with pytest.raises(ValueError, match="writer failed"):
        consume()
    assert _readers() == []
    assert len(calls) < 100


def test_an_error_of_fetch_is_raised_to_the_consumer_after_the_rows_before_it():
    calls: list[int] = []

    def fetch() -> Sequence[int]:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the server went away")
        return [len(calls)]

    seen: list[int] = []
    with pytest.raises(RuntimeError, match="went away"):
        seen.extend(read_ahead(fetch, depth=2))
    assert seen == [1, 2]
    assert _readers() == []
    assert len(calls) == 3  # none after the failure


def test_a_generator_never_started_starts_no_thread():
    fetch, calls = _batches(3)
    rows = read_ahead(fetch)
    rows.close()
    assert calls == []
    assert _readers() == []
