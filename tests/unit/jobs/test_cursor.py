"""Cursors are lazy: pages are fetched only as the caller iterates; counts are separate."""

from __future__ import annotations

from typing import Any

from sysjobs.jobs.cursor import PAGE, Cursor


def _source(total: int) -> tuple[list[tuple[Any, int]], Any]:
    calls: list[tuple[Any, int]] = []

    def fetch(after: Any, limit: int) -> list[dict[str, Any]]:
        calls.append((after, limit))
        start = 0 if after is None else after + 1
        return [{"n": n} for n in range(start, min(total, start + limit))]

    return calls, fetch


def test_nothing_is_read_until_iteration_starts() -> None:
    calls, fetch = _source(1000)
    cursor = Cursor(fetch, lambda r: r["n"], lambda r: r["n"], lambda: 1000)
    assert calls == []
    first = next(iter(cursor))
    assert first == 0 and calls == [(None, PAGE)]


def test_pages_follow_the_last_key_and_size_bounds_the_total() -> None:
    calls, fetch = _source(1000)
    cursor = Cursor(fetch, lambda r: r["n"], lambda r: r["n"], lambda: 1000, size=250)
    assert list(cursor) == list(range(250))
    assert calls == [(None, PAGE), (PAGE - 1, 50)]


def test_count_is_one_query_and_ignores_size() -> None:
    counted: list[int] = []
    cursor = Cursor(lambda a, n: [], lambda r: r, lambda r: r, lambda: counted.append(1) or 7,
                    size=2)  # fmt: skip
    assert cursor.count() == 7 and cursor.count() == 7 and counted == [1]


def test_close_ends_the_stream_early() -> None:
    _, fetch = _source(1000)
    cursor = Cursor(fetch, lambda r: r["n"], lambda r: r["n"], lambda: 1000)
    seen = []
    for item in cursor:
        seen.append(item)
        if item == 3:
            cursor.close()
    assert seen == [0, 1, 2, 3]
