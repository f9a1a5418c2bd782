"""``sys.commons``: the lazy ``ResultSet`` shared by ``find``/``logs`` of every namespace.

A binding operation that returns many items calls :func:`open_result_set` with a Python
iterator (typically a database cursor). The first page travels with the reply; later
pages are fetched as the script iterates, and every cursor still open when the run ends
is closed by the run's cleanups.

Host calls honour the script's deadline: V8 cannot interrupt Python, so a call still working
when the script's time is up would hold the isolate (and the GIL) past its limit.
:func:`bounded` makes an operation end in ``timeout`` when it arrives with no time left, and a
page stops between items once the deadline passes. A query's own run time is bounded by
the engine's ``reads_until`` (a progress handler on SQLite, ``statement_timeout`` on
PostgreSQL): :func:`each_within` and :func:`within` run each page and the ``count()`` of a
result set under it, since they are read in later host calls of the same run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from sysjobs.errors import BadRequest, Timeout
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

A = TypeVar("A", bound=BaseModel)
T = TypeVar("T")
#: Opens a block whose database reads stop at the script's deadline (``Engine.reads_until``).
Reads = Callable[[], AbstractContextManager[None]]
_END: Any = object()

_PRELUDE = resources.files("sysjobs.bindings").joinpath("commons.js").read_text("utf-8")
PAGE_SIZE = 100
_KEY = "commons.result_sets"


@dataclass
class _Cursor:
    items: Iterator[Any]
    count: Callable[[], int]
    encode: Callable[[Any], Any]
    close: Callable[[], None] | None


def check_deadline(ctx: CallContext) -> None:
    """``Timeout`` when the script's time is spent (no work is started for a dead run)."""
    if ctx.remaining() <= 0:
        raise Timeout("The script's time limit was reached during a sys call.")


def bounded(op: Operation[A]) -> Operation[A]:
    """``op`` refusing with ``timeout`` to start once the script's deadline has passed."""
    handler = op.handler

    def call(ctx: CallContext, args: A) -> Any:
        check_deadline(ctx)
        return handler(ctx, args)

    return replace(op, handler=call)


def each_within(reads: Reads, items: Iterator[T]) -> Iterator[T]:
    """``items``, each fetched inside ``reads()`` (a result set is read page by page, in
    later host calls of the same run: each page's query stops at the deadline too)."""
    while True:
        with reads():
            item = next(items, _END)
        if item is _END:
            return
        yield item


def within(reads: Reads, work: Callable[[], T]) -> T:
    """``work()`` inside ``reads()`` (e.g. a result set's ``count()``, asked later)."""
    with reads():
        return work()


def _registry(ctx: CallContext) -> dict[int, _Cursor]:
    reg: dict[int, _Cursor] | None = ctx.extras.get(_KEY)
    if reg is None:
        reg = ctx.extras[_KEY] = {}
        ctx.cleanups.append(lambda: _close_all(reg))
    return reg


def _close_all(reg: dict[int, _Cursor]) -> None:
    for cursor in reg.values():
        _release(cursor)
    reg.clear()


def _page(ctx: CallContext, cursor: _Cursor) -> tuple[list[Any], bool]:
    """Up to PAGE_SIZE encoded items, and whether the iterator is exhausted."""
    batch = []
    for item in itertools.islice(cursor.items, PAGE_SIZE + 1):
        check_deadline(ctx)
        batch.append(item)
    done = len(batch) <= PAGE_SIZE
    if not done:
        cursor.items = itertools.chain([batch.pop()], cursor.items)
    else:
        _release(cursor)
    return [cursor.encode(x) for x in batch], done


def _release(cursor: _Cursor) -> None:
    """Free the cursor's database resources; ``count()`` keeps working."""
    cursor.items = iter(())
    if cursor.close is not None:
        close, cursor.close = cursor.close, None
        close()


def open_result_set(
    ctx: CallContext,
    items: Iterable[Any],
    count: Callable[[], int],
    encode: Callable[[Any], Any] = lambda x: x,
    close: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Register ``items`` for this run and return the handle the JS prelude expects."""
    reg = _registry(ctx)
    cursor_id = len(reg) + 1
    cursor = reg[cursor_id] = _Cursor(iter(items), count, encode, close)
    first, done = _page(ctx, cursor)
    return {"id": cursor_id, "items": first, "done": done}


class CursorArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int = Field(ge=0, le=2**53)


def _lookup(ctx: CallContext, cursor_id: int) -> _Cursor:
    cursor = _registry(ctx).get(cursor_id)
    if cursor is None:
        raise BadRequest("The result set is closed.")
    return cursor


def _next_page(ctx: CallContext, args: CursorArgs) -> dict[str, Any]:
    items, done = _page(ctx, _lookup(ctx, args.id))
    return {"items": items, "done": done}


def _count(ctx: CallContext, args: CursorArgs) -> int:
    return _lookup(ctx, args.id).count()


def _close(ctx: CallContext, args: CursorArgs) -> None:
    _release(_lookup(ctx, args.id))


def commons_namespace() -> Namespace:
    """The ``sys.commons`` namespace."""
    return Namespace(
        name="commons",
        prelude=_PRELUDE,
        operations=(
            bounded(Operation("page", CursorArgs, _next_page)),
            bounded(Operation("count", CursorArgs, _count)),
            Operation("close", CursorArgs, _close),
        ),
    )
