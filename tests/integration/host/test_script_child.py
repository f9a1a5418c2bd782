"""The sandbox of ``sysjobs run``'s child: the host's own, with the database opened on the
first ``sys.jobs``/``sys.data`` call.

A script cannot tell it from ``Host(db).sandbox``: the same replies, and for hostile
arguments the same errors, on both databases. What differs is only when the database is
opened — and so where a database that cannot be opened shows: in the first call that
needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sysjobs.cli.options import DEFAULT_SLOTS
from sysjobs.cli.stats_cmd import DEFAULT_WINDOW_S, MAX_WINDOW_S
from sysjobs.cli.worker_cmd import DEFAULT_RUNNER, DEFAULT_SETUP
from sysjobs.errors import BadRequest
from sysjobs.host import Host
from sysjobs.runtime import RunResult, Sandbox
from sysjobs.script_child import DEFERRED_OPERATIONS, JOB_ENQUEUED, script_sandbox

MISSING = "0123456789abcdef01234567"
#: Scripts whose every reply (value or error) must be the same through either sandbox.
SCRIPTS = [
    "sys.jobs.findById('nope')",
    f"sys.jobs.findById('{MISSING}')",
    "sys.jobs.find({_size: NaN})",
    "sys.jobs.find({_size: Infinity})",
    "sys.jobs.find({_size: 2 ** 70})",
    "sys.jobs.find({status: '\\ud800'})",
    "sys.jobs.find({type: 'x'.repeat(1 << 20)}).count()",
    "sys.jobs.find({__proto__: {type: 'x'}}).count()",
    "sys.jobs.find({bogus: 1})",
    "sys.jobs.find(1)",
    "sys.jobs.find([1, 2])",
    "var q = {}; var c = q; for (var i = 0; i < 5000; i++) { c.a = {}; c = c.a; } sys.jobs.find(q)",
    f"sys.jobs.waitForJob('{MISSING}', 'FINISHED', -1)",
    f"sys.jobs.waitForJob('{MISSING}', 'DONE', 10)",
    f"sys.jobs.logs('{MISSING}', {{level: 'DEBUG'}})",
    "sys.jobs.getCurrentJobId()",
    "sys.jobs.getCurrentJob()",
    "sys.jobs.logInfo('no job: discarded')",
    "sys.data.count('companies', {})",
    "sys.data.findById('companies', 'nope')",
    "sys.data.find('no_such_entity', {})",
    "sys.data.count('companies', {name: '\\udfff'})",
    "sys.data.executeAction('companies', {}, 'no_such_action', {})",
]


def reply(result: RunResult) -> tuple[Any, ...]:
    error = result.error
    return (str(result.outcome), result.value, result.logs,
            None if error is None else (error.code, error.name, error.message))  # fmt: skip


@pytest.fixture(scope="module")
def both(module_db_url: str) -> Iterator[tuple[Sandbox, Sandbox]]:
    """Both sandboxes on one database, for every script: the scripts only read (each error
    is refused before anything is written), so a host and a child per script showed the
    same replies at the cost of opening them 23 times on each database."""
    with Host(module_db_url, pool_size=1) as host:
        child = script_sandbox(module_db_url, timeout_s=20.0)
        try:
            yield host.sandbox, child
        finally:
            child.close()


@pytest.mark.parametrize("source", SCRIPTS)
def test_a_script_gets_the_same_replies_as_from_the_hosts_sandbox(
    both: tuple[Sandbox, Sandbox], source: str
) -> None:
    host_sandbox, child_sandbox = both
    expected = reply(host_sandbox.run(source, timeout_s=20.0))
    assert reply(child_sandbox.run(source, timeout_s=20.0)) == expected


def test_the_deferred_operations_are_the_hosts_own(tmp_path: Path) -> None:
    with Host(f"sqlite:///{tmp_path / 'ops.db'}", pool_size=1) as host:
        names = {ns.name: tuple(op.name for op in ns.operations) for ns in host.sandbox.namespaces}
    for namespace, operations in DEFERRED_OPERATIONS.items():
        assert names[namespace] == operations


def test_a_script_that_touches_no_job_or_record_never_opens_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never' / 'opened.db'}"
    sandbox = script_sandbox(url)
    try:
        result = sandbox.run("log('hi'); 6 * 7")
    finally:
        sandbox.close()
    assert (result.ok, result.value, result.logs) == (True, 42, ["hi"])
    assert not (tmp_path / "never").exists()


def test_a_database_that_cannot_be_opened_is_the_error_of_the_first_call_that_needs_it() -> None:
    sandbox = script_sandbox("mysql://nowhere/db")
    try:
        result = sandbox.run(
            "log('before'); try { sys.jobs.find({}) } catch (e) {"
            " log(sys.exceptions.getCode(e) + ': ' + e.message) }"
        )
    finally:
        sandbox.close()
    assert result.ok
    assert result.logs[0] == "before"
    assert result.logs[1].startswith("badRequest: cannot open the database or app: unsupported")


def test_an_app_that_cannot_be_loaded_fails_before_the_script(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="No app manifest"):
        script_sandbox(f"sqlite:///{tmp_path / 'x.db'}", app_dir=str(tmp_path / "no-app"))


def test_the_first_job_enqueued_is_told_once(tmp_path: Path) -> None:
    events: list[str] = []
    sandbox = script_sandbox(f"sqlite:///{tmp_path / 'jobs.db'}", events=events.append)
    start = "sys.data.executeAction('companies', {}, 'logSomething', {param1: 'a', param2: 'b'});"
    try:
        assert sandbox.run("sys.jobs.find({}).count()").ok
        assert events == []
        assert sandbox.run(start + start).ok
    finally:
        sandbox.close()
    assert events == [JOB_ENQUEUED]


def test_the_command_lines_defaults_are_the_engines() -> None:
    from sysjobs.host import WORKER_RUNNER, WORKER_SETUP
    from sysjobs.jobs.stats import DEFAULT_WINDOW_S as ENGINE_WINDOW_S
    from sysjobs.web.api import MAX_WINDOW_S as API_MAX_WINDOW_S
    from sysjobs.worker.pool import DEFAULT_SLOTS as POOL_SLOTS

    assert (DEFAULT_SLOTS, DEFAULT_WINDOW_S, MAX_WINDOW_S) == (
        POOL_SLOTS, ENGINE_WINDOW_S, API_MAX_WINDOW_S,
    )  # fmt: skip
    assert (DEFAULT_SETUP, DEFAULT_RUNNER) == (WORKER_SETUP, WORKER_RUNNER)
