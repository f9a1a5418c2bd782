"""Host calls honour the script's deadline: V8 cannot interrupt Python, so an operation that
arrives with no time left ends in ``timeout`` without working, and a result-set page stops
between items once the deadline passes (the deadline is moved, never waited for)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sysjobs.bindings.commons import CursorArgs, bounded, commons_namespace, open_result_set
from sysjobs.bindings.jobs_args import NoArgs
from sysjobs.errors import Timeout
from sysjobs.runtime.namespace import CallContext, Operation


def test_an_operation_arriving_after_the_deadline_ends_in_timeout_without_running() -> None:
    ran: list[str] = []
    op = bounded(Operation("touch", NoArgs, lambda ctx, args: ran.append("ran")))
    with pytest.raises(Timeout, match="time limit"):
        op.handler(CallContext(deadline=time.monotonic() - 1), NoArgs())
    assert ran == []
    op.handler(CallContext(deadline=time.monotonic() + 60), NoArgs())
    assert ran == ["ran"]


def test_a_page_stops_between_items_once_the_deadline_passes() -> None:
    ctx = CallContext(deadline=time.monotonic() + 60)
    served: list[int] = []

    def items() -> Iterator[int]:
        for i in range(1000):
            served.append(i)
            if i == 150:
                ctx.deadline = time.monotonic() - 1  # the script's time runs out mid-page
            yield i

    first = open_result_set(ctx, items(), lambda: 1000)
    assert first["done"] is False and len(first["items"]) == 100
    page = {op.name: op for op in commons_namespace().operations}["page"]
    with pytest.raises(Timeout):
        page.handler(ctx, CursorArgs(id=first["id"]))
    assert len(served) == 151  # nothing fetched past the deadline


def test_closing_a_result_set_works_after_the_deadline() -> None:
    closed: list[bool] = []
    ctx = CallContext(deadline=time.monotonic() + 60)
    handle = open_result_set(ctx, iter(range(500)), lambda: 500, close=lambda: closed.append(True))
    ctx.deadline = time.monotonic() - 1
    close = {op.name: op for op in commons_namespace().operations}["close"]
    close.handler(ctx, CursorArgs(id=handle["id"]))
    assert closed == [True]
