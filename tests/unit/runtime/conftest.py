"""Runtime fixtures: a sandbox with the core namespaces plus a ``sys.test`` namespace whose
operations exercise the bridge, and a leak check after every test (PyMiniRacer's
``gc_check`` is the model)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from sysjobs.bindings import core_namespaces
from sysjobs.errors import NotFound
from sysjobs.runtime import CallContext, Limits, Namespace, Operation, Sandbox
from sysjobs.runtime.bridge import context_count

TEST_PRELUDE = """
(function (host) {
  return {
    echo: function (v) { return host.call('echo', { value: v }); },
    notFound: function () { return host.call('notFound', {}); },
    boom: function () { return host.call('boom', {}); },
    strict: function (args) { return host.call('strict', args); },
    reenter: function () { return host.call('reenter', {}); },
    remaining: function () { return host.call('remaining', {}); },
    jobId: function () { return host.call('jobId', {}); },
  };
})
"""


class Value(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: Any = None


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    size: int = 10


def _boom(ctx: CallContext, args: Empty) -> None:
    raise RuntimeError("secret /etc/passwd detail")


def _not_found(ctx: CallContext, args: Empty) -> None:
    raise NotFound("Job 0123456789abcdef01234567 not found.", info={"id": "x"})


def make_test_namespace(holder: dict[str, Sandbox]) -> Namespace:
    def reenter(ctx: CallContext, args: Empty) -> Any:
        return holder["sandbox"].run("1").to_json()

    return Namespace(
        name="test",
        prelude=TEST_PRELUDE,
        operations=(
            Operation("echo", Value, lambda ctx, a: a.value),
            Operation("notFound", Empty, _not_found),
            Operation("boom", Empty, _boom),
            Operation("strict", Strict, lambda ctx, a: a.model_dump()),
            Operation("reenter", Empty, reenter),
            Operation("remaining", Empty, lambda ctx, a: ctx.remaining()),
            Operation("jobId", Empty, lambda ctx, a: ctx.job_id),
        ),
    )


@pytest.fixture(autouse=True)
def no_leaked_contexts() -> Iterator[None]:
    """Every context a test creates is freed by the end of the test.

    A full collection walks every object of the process — in the whole suite's process,
    the collected items and every imported module: ~0.15 s a test — so it runs only when
    the count differs without it (a context held in a reference cycle is freed by it)."""
    before = context_count()
    yield
    if context_count() != before:
        gc.collect()
    assert context_count() == before, "a V8 context outlived its test"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    holder: dict[str, Sandbox] = {}
    sb = Sandbox(
        [*core_namespaces(), make_test_namespace(holder)],
        Limits(timeout_s=10.0),
        pool_size=0,
    )
    holder["sandbox"] = sb
    yield sb
    sb.close()
