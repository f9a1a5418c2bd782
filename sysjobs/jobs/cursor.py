"""Lazy result cursors: rows are fetched in keyset pages only as the caller iterates.

A script may hold a ``ResultSet`` for as long as it likes and read only its first item, so
nothing is materialised up front and no connection is pinned between pages. ``count()``
answers "how many match in total" (ignoring ``_size``) with one COUNT query, cached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K")

#: Rows per round trip (smaller when ``_size`` asks for fewer).
PAGE = 200


class Cursor(Generic[T]):
    """Iterate lazily over a query's results; ``count()`` gives the total."""

    def __init__(
        self,
        fetch_page: Callable[[Any, int], list[dict[str, Any]]],
        key_of: Callable[[dict[str, Any]], Any],
        build: Callable[[dict[str, Any]], T],
        count: Callable[[], int],
        size: int | None = None,
        start: Any = None,
    ) -> None:
        self._fetch_page = fetch_page
        self._key_of = key_of
        self._build = build
        self._count = count
        self._size = size
        #: The key of the item to start after (keyset pagination), None for the first.
        self._start = start
        self._total: int | None = None
        self._closed = False

    def __iter__(self) -> Iterator[T]:
        left = self._size
        after: Any = self._start
        while not self._closed and (left is None or left > 0):
            limit = PAGE if left is None else min(PAGE, left)
            rows = self._fetch_page(after, limit)
            for row in rows:
                if self._closed:
                    return
                yield self._build(row)
            if len(rows) < limit:
                return
            after = self._key_of(rows[-1])
            if left is not None:
                left -= len(rows)

    def count(self) -> int:
        """How many items match in total, ignoring ``_size`` (one query, then cached)."""
        if self._total is None:
            self._total = self._count()
        return self._total

    def close(self) -> None:
        """Stop iteration early; nothing is held open, so this only ends the stream."""
        self._closed = True

    def __enter__(self) -> Cursor[T]:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
