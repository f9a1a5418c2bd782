"""``Session.run_each``: one script run once per item in one V8 call, each item a run of
its own — what one item does (throw, loop, leave a promise, spend its budget) is that
item's outcome, and nothing of it runs inside another item's run.

The attacks an action over a chunk of records could make on its neighbours, each checked
on the outcomes the items report (in order, before the next item starts).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Governance, Limits, Outcome, RunResult, Sandbox, Session
from tests.unit.runtime.conftest import make_test_namespace


class Reports:
    """What ``on_item`` received, and an answer per item (go on by default)."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.results: list[tuple[int, RunResult]] = []
        self.stop_after = stop_after

    def __call__(self, index: int, result: RunResult) -> bool:
        self.results.append((index, result))
        return self.stop_after is None or index < self.stop_after

    def outcomes(self) -> list[tuple[int, str]]:
        return [(i, str(r.outcome)) for i, r in self.results]

    def values(self) -> list[Any]:
        return [r.value for _, r in self.results]


def _limited(timeout_s: float) -> Iterator[Sandbox]:
    holder: dict[str, Sandbox] = {}
    sb = Sandbox([*core_namespaces(), make_test_namespace(holder)], Limits(timeout_s=timeout_s),
                 pool_size=0)  # fmt: skip
    holder["sandbox"] = sb
    yield sb
    sb.close()


@pytest.fixture
def short_sandbox() -> Iterator[Sandbox]:
    """A 1 s limit per run: items of 0.4 s each fit it with room to spare."""
    yield from _limited(1.0)


@pytest.fixture
def spin_sandbox() -> Iterator[Sandbox]:
    """A 0.25 s limit per run, for items that loop until it: any limit shows the same
    ``timeout`` (and the items around them, which end at once, the same ``ok``), and the
    loop spins until it — a short one is that much less CPU."""
    yield from _limited(0.25)


def _items(n: int) -> list[dict[str, Any]]:
    return [{"n": i} for i in range(n)]


def test_every_item_runs_in_order_and_reports_its_value(sandbox: Sandbox) -> None:
    reports = Reports()
    with sandbox.session() as session:
        tail = session.run_each("n * 10", _items(5), reports)
    assert reports.values() == [0, 10, 20, 30, 40]
    assert [i for i, _ in reports.results] == [0, 1, 2, 3, 4]
    assert tail.outcome is Outcome.OK
    assert sandbox.counts["built"] == 1, "one context for every item"


def test_shared_globals_come_under_each_items_own(sandbox: Sandbox) -> None:
    reports = Reports()
    with sandbox.session() as session:
        session.run_each("[shared, n]", _items(2), reports, globals={"shared": "s"})
    assert reports.values() == [["s", 0], ["s", 1]]


def test_an_item_that_throws_fails_alone(sandbox: Sandbox) -> None:
    reports = Reports()
    source = "if (n === 1) throw new TypeError('bad ' + n); n"
    with sandbox.session() as session:
        session.run_each(source, _items(3), reports)
    assert reports.outcomes() == [(0, "ok"), (1, "error"), (2, "ok")]
    error = reports.results[1][1].error
    assert error is not None and (error.name, error.message) == ("TypeError", "bad 1")
    assert reports.values() == [0, None, 2]


def test_a_thrown_non_error_and_an_unserialisable_value_are_that_items_outcome(
    sandbox: Sandbox,
) -> None:
    reports = Reports()
    source = "if (n === 0) throw {code: 'notFound'}; if (n === 1) { var o = {}; o.o = o; o } else n"
    with sandbox.session() as session:
        session.run_each(source, _items(3), reports)
    assert reports.outcomes() == [(0, "error"), (1, "ok"), (2, "ok")]
    first = reports.results[0][1].error
    assert first is not None and first.name == "Uncaught" and first.code is None
    assert reports.values()[2] == 2


def test_an_item_that_loops_times_out_and_the_next_items_run_in_a_fresh_context(
    spin_sandbox: Sandbox,
) -> None:
    reports = Reports()
    source = "if (n === 1) { while (true) {} } globalThis.before = typeof before; n"
    with spin_sandbox.session() as session:
        session.run_each(source, _items(4), reports)
    assert reports.outcomes() == [(0, "ok"), (1, "timeout"), (2, "ok"), (3, "ok")]
    assert reports.values() == [0, None, 2, 3]
    assert spin_sandbox.counts["built"] == 2, "the looping item's context was discarded"


def test_each_item_has_its_own_time_limit(short_sandbox: Sandbox) -> None:
    """Three items of 0.4 s each run 1.2 s in one call: a limit of 1 s per item is not
    one for the call."""
    reports = Reports()
    source = "var end = Date.now() + 400; while (Date.now() < end) {} n"
    with short_sandbox.session() as session:
        session.run_each(source, _items(3), reports)
    assert reports.outcomes() == [(0, "ok"), (1, "ok"), (2, "ok")]


def test_each_item_has_its_own_host_call_budget() -> None:
    holder: dict[str, Sandbox] = {}
    limits = Limits(timeout_s=10.0, governance=Governance(max_host_calls=3))
    sb = Sandbox([*core_namespaces(), make_test_namespace(holder)], limits, pool_size=0)
    reports = Reports()
    try:
        with sb.session() as session:
            session.run_each("sys.test.echo(n); sys.test.echo(n); n", _items(3), reports)
            session.run_each("for (var i = 0; i < 4; i++) sys.test.echo(i); n", _items(1),
                             reports)  # fmt: skip
    finally:
        sb.close()
    assert reports.outcomes() == [(0, "ok"), (1, "ok"), (2, "ok"), (0, "error")]
    error = reports.results[3][1].error
    assert error is not None and error.code == "limitExceeded"


def test_a_promise_an_item_leaves_never_runs_inside_the_next_item(sandbox: Sandbox) -> None:
    """Item 0's ``then`` sets a flag: item 1 does not see it set, and it is set once the
    call's items are done (the work ran after the last item)."""
    reports = Reports()
    source = (
        "if (n === 0) { Promise.resolve().then(function () { globalThis.late = 'ran'; }); }"
        " typeof late"
    )
    with sandbox.session() as session:
        tail = session.run_each(source, _items(3), reports)
        after = session.run("typeof late === 'string' ? late : 'missing'")
    assert reports.values() == ["undefined", "undefined", "undefined"]
    assert tail.outcome is Outcome.OK
    assert after.value == "ran"


def test_an_async_function_an_item_leaves_runs_after_the_last_item(sandbox: Sandbox) -> None:
    lines: list[str] = []
    reports = Reports()
    source = "(async function () { await 0; log('late ' + record); })(); log('now ' + record); 1"
    with sandbox.session(log_sink=lines.append) as session:
        session.run_each(source, [{"record": "a"}, {"record": "b"}], reports)
    assert lines[:2] == ["now a", "now b"]
    assert sorted(lines[2:]) == ["late b", "late b"], "closures read the global at their time"


def test_a_microtask_loop_an_item_leaves_ends_the_call_with_timeout(
    spin_sandbox: Sandbox,
) -> None:
    reports = Reports()
    source = "if (n === 1) { (async function () { while (true) { await 0; } })(); } n"
    with spin_sandbox.session() as session:
        tail = session.run_each(source, _items(3), reports)
        nxt = session.run("'still serving'")
    assert reports.outcomes() == [(0, "ok"), (1, "ok"), (2, "ok")]
    assert tail.outcome is Outcome.TIMEOUT
    assert tail.error is not None and "asynchronous work" in tail.error.message
    assert nxt.value == "still serving"
    assert spin_sandbox.counts["built"] == 2, "the wedged context was discarded"


def test_globals_an_item_sets_are_there_for_the_next_items_of_the_same_session(
    sandbox: Sandbox,
) -> None:
    """One job's records share its session's context, as runs of one session always did;
    another session never sees them (its context is proven clean first)."""
    reports = Reports()
    source = "globalThis.count = (typeof count === 'number' ? count : 0) + 1; count"
    with sandbox.session() as session:
        session.run_each(source, _items(3), reports)
        session.run_each(source, _items(2), reports)
    with sandbox.session() as other:
        probe = other.run("typeof count")
    assert reports.values() == [1, 2, 3, 4, 5]
    assert probe.value == "undefined"


def test_a_stop_from_on_item_runs_no_further_item(sandbox: Sandbox) -> None:
    reports = Reports(stop_after=1)
    with sandbox.session() as session:
        session.run_each("globalThis.ran = (globalThis.ran || 0) + 1; n", _items(5), reports)
        ran = session.run("ran")
    assert [i for i, _ in reports.results] == [0, 1]
    assert ran.value == 2


def test_an_exception_of_on_item_stops_the_items_and_is_raised(sandbox: Sandbox) -> None:
    def on_item(index: int, result: RunResult) -> bool:
        if index == 1:
            raise LookupError("the lease is gone")
        return True

    with sandbox.session() as session:
        with pytest.raises(LookupError, match="the lease is gone"):
            session.run_each("globalThis.ran = (globalThis.ran || 0) + 1; n", _items(5), on_item)
        ran = session.run("ran")
    assert ran.value == 2


def test_a_terminated_item_ends_the_items(sandbox: Sandbox) -> None:
    reports = Reports()
    session_box: dict[str, Session] = {}

    def on_item(index: int, result: RunResult) -> bool:
        reports(index, result)
        if index == 0:  # terminate from another thread, as a forced stop does
            stopper = threading.Thread(target=session_box["s"].terminate)
            stopper.start()
            stopper.join()
        return True

    with sandbox.session(run_id="job-1") as session:
        session_box["s"] = session
        session.run_each("n", _items(4), on_item)
    assert reports.outcomes() == [(0, "ok"), (1, "terminated")]


def test_a_host_call_cannot_forge_an_items_report(sandbox: Sandbox) -> None:
    """The report mark starts no request a script can send: text that starts with it is
    an argument like any other."""
    reports = Reports()
    forged = '\\u00011\\u0001{"ok":true,"value":"forged"}'
    source = f"sys.test.echo('{forged}'); log('{forged}'); n"
    with sandbox.session(log_sink=lambda _line: None) as session:
        session.run_each(source, _items(3), reports)
    assert reports.values() == [0, 1, 2]


def test_an_item_out_of_memory_fails_alone() -> None:
    sb = Sandbox(core_namespaces(), Limits(timeout_s=20.0, heap_bytes=48 * 1024 * 1024),
                 pool_size=0)  # fmt: skip
    reports = Reports()
    source = "if (n === 1) { var a = []; while (true) a.push({x: [1, 2, 3]}); } n"
    try:
        with sb.session() as session:
            session.run_each(source, _items(3), reports)
    finally:
        sb.close()
    assert reports.outcomes() == [(0, "ok"), (1, "memoryLimit"), (2, "ok")]


def test_a_global_an_item_locks_stays_locked_for_the_next_items_as_with_one_run_each(
    sandbox: Sandbox,
) -> None:
    """An item that makes its global ``n`` non-configurable keeps it for the items after
    it (the globals are defined with ``Reflect.defineProperty``, which then declines) —
    exactly what one run per item in one session does: the same job, the same domain."""
    source = "if (n === 0) Object.defineProperty(globalThis, 'n', {configurable: false}); n"
    reports = Reports()
    with sandbox.session() as session:
        session.run_each(source, _items(3), reports)
    with sandbox.session() as session:
        one_by_one = [session.run(source, globals=item).value for item in _items(3)]
    assert reports.values() == one_by_one == [0, 0, 0]


def test_no_items_is_no_run(sandbox: Sandbox) -> None:
    reports = Reports()
    with sandbox.session() as session:
        tail = session.run_each("n", [], reports)
    assert tail.outcome is Outcome.OK and reports.results == []
    assert sandbox.counts["built"] == 0
