"""The Python half of a host call: ``dispatch.handle`` decodes, validates, runs, encodes.

Requests come from the bootstrap's ``JSON.stringify`` and are read by the C scanner; these
cases pin what happens at the edges of that fast path, where ``json.loads`` must still
decide, and what the encoder made once answers.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel

from sysjobs.runtime import CallContext, Operation
from sysjobs.runtime.dispatch import handle


class Value(BaseModel):
    value: Any = None


def _table(result: Any = None) -> dict[str, Operation[Any]]:
    return {
        "t.echo": Operation("echo", Value, lambda ctx, a: a.value),
        "t.fixed": Operation("fixed", Value, lambda ctx, a: result),
    }


def _reply(request: str, result: Any = None) -> dict[str, Any]:
    return dict(json.loads(handle(_table(result), CallContext(deadline=1e18), request)))


@pytest.mark.parametrize(
    "value", [None, True, 0, -1.5, "é\u2028\U0001f600", [1, "a", None], {"k": {"n": [1]}}]
)
def test_a_reply_is_the_json_of_the_handlers_result(value: Any) -> None:
    request = json.dumps({"op": "t.echo", "args": {"value": value}})
    text = handle(_table(), CallContext(deadline=1e18), request)
    assert text == json.dumps({"ok": value}, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize(
    "request_text",
    ['{"op":"t.echo","args":{}} trailing', '{"op":"t.echo"', "", "[1, 2]", "  "],
)
def test_a_malformed_request_gets_an_error_reply_never_an_exception(
    request_text: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sysjobs.runtime"):
        reply = _reply(request_text)
    assert reply["err"]["code"] in ("badRequest", "systemException")


def test_whitespace_around_a_request_is_still_accepted() -> None:
    assert _reply(' {"op":"t.echo","args":{"value":3}} \n') == {"ok": 3}


def test_a_result_that_contains_itself_is_a_system_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop: list[Any] = []
    loop.append(loop)
    with caplog.at_level(logging.ERROR, logger="sysjobs.runtime"):
        reply = _reply('{"op":"t.fixed","args":{}}', result=loop)
    assert reply["err"]["code"] == "systemException"
    assert "correlation id" in reply["err"]["message"]
    assert _reply('{"op":"t.echo","args":{"value":1}}') == {"ok": 1}, "the encoder still works"


def _pending(ctx: CallContext, written: list[str], name: str) -> None:
    ctx.flushes.append(lambda: written.append(name))


def test_a_runs_pending_writes_go_out_before_an_operation_that_does_not_defer_them() -> None:
    table = {**_table(), "t.defer": Operation("defer", Value, lambda ctx, a: a.value,
                                              defers=True)}  # fmt: skip
    ctx = CallContext(deadline=1e18)
    written: list[str] = []
    _pending(ctx, written, "first")
    assert json.loads(handle(table, ctx, '{"op":"t.defer","args":{"value":1}}')) == {"ok": 1}
    assert written == [] and len(ctx.flushes) == 1  # still pending
    assert json.loads(handle(table, ctx, '{"op":"t.echo","args":{"value":2}}')) == {"ok": 2}
    assert written == ["first"] and ctx.flushes == []


def test_pending_writes_that_fail_are_the_calls_error_and_are_not_written_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = CallContext(deadline=1e18)
    calls: list[int] = []

    def fails() -> None:
        calls.append(1)
        raise RuntimeError("disk full /var/lib/secret")

    ctx.flushes.append(fails)
    with caplog.at_level(logging.ERROR, logger="sysjobs.runtime"):
        reply = json.loads(handle(_table(), ctx, '{"op":"t.echo","args":{"value":3}}'))
    assert reply["err"]["code"] == "systemException"
    assert "secret" not in reply["err"]["message"]  # no Python text reaches the script
    assert json.loads(handle(_table(), ctx, '{"op":"t.echo","args":{"value":4}}')) == {"ok": 4}
    assert calls == [1]
