"""Hostile action scripts run as EXECUTE_ACTION jobs of a test app, through the real worker
path with ONE worker slot — and scripts that kill their process, run in a child process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import Host
from sysjobs.jobs import Job
from sysjobs.runtime import Limits, Outcome
from sysjobs.runtime.launcher import Launcher
from sysjobs.runtime.process import ProcessSandbox, SandboxFactory
from tests.hostile.catalog import PROCESS_KILLERS, Hostile
from tests.hostile.conftest import CAPS, DONE, LIMITS, SETTINGS, app_dir, lines_of

ACTIONS = {
    "heapBomb": "var a = []; while (true) a.push({x: [1, 2, 3]});",
    "recurse": "function f() { return f() } return f();",
    "forged": "throw {code: 'notFound', message: 'forged'};",
    "forgedError": "var e = new Error('plain'); e.code = 'timeout'; throw e;",
    "sysMutation": "'use strict'; sys.data = null;",
    "logFlood": "for (var i = 0; i < 300; i++) log('flood ' + i); return 'flooded';",  # cap: 200
    "pollute": "Object.prototype.leak = 'yes'; Array.prototype.push = null; return 'polluted';",
    "checkClean": "return [typeof ({}).leak, typeof [].push].join(',');",
    "child": "return 'child done';",
    "waitOwnChild": (
        "var id = sys.data.executeAction('things', {}, 'touch', {});\n"
        "try { sys.jobs.waitForJob(id, 'FINISHED', 1500); return 'no deadlock?'; }\n"
        "catch (e) { return sys.exceptions.getCode(e) + ' ' + id; }"
    ),
    "waitSelf": "sys.jobs.waitForJob(sys.jobs.getCurrentJobId(), 'FINISHED', 500);",
}


@pytest.fixture(scope="module")
def action_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    root = tmp_path_factory.mktemp("hostile-app")
    app = app_dir(root / "app", ACTIONS)
    host = Host(f"sqlite:///{root / 'app.db'}", app, limits=LIMITS, pool_size=1, settings=SETTINGS)
    # One slot (a waiting parent holds it), in this process (opted in): this suite checks the
    # sandbox's answers; test_hostile_worker_processes.py checks the worker-process path.
    pool = host.workers(concurrency=1, lease_s=5.0, in_process=True)
    pool.start()
    try:
        yield host
    finally:
        pool.stop(grace_s=5.0)
        host.close()


def run_action(host: Host, name: str) -> Job:
    job_id = host.app.execute_action(None, {}, name, {})
    return host.engine.wait(job_id, DONE, 60)


def assert_next_action_succeeds(host: Host) -> None:
    job = run_action(host, "child")
    assert job.results == {"results": {"status": "ok", "response": "child done"}}


@pytest.mark.parametrize(
    ("action", "code"),
    [
        ("heapBomb", "memoryLimit"),
        ("recurse", "RangeError"),
        ("forged", "Uncaught"),
        ("forgedError", "Error"),
        ("sysMutation", "TypeError"),
        ("waitSelf", "timeout"),
    ],
)
def test_a_hostile_action_fails_with_its_exact_code_and_the_host_goes_on(
    action_host: Host, action: str, code: str
) -> None:
    job = run_action(action_host, action)
    assert job.status == "FINISHED" and job.has_errors
    entry = (job.results or {})["results"]
    assert entry["status"] == "error" and entry["errorMessage"].startswith(f"{code}: "), entry
    assert ("ERROR", f"Action {action} failed: {entry['errorMessage']}") in lines_of(action_host, job.id)
    assert_next_action_succeeds(action_host)


def test_an_action_flooding_its_log_is_capped_and_told(action_host: Host) -> None:
    job = run_action(action_host, "logFlood")
    lines = lines_of(action_host, job.id)
    assert job.results == {"results": {"status": "ok", "response": "flooded"}}
    assert len(lines) == CAPS.max_log_lines + 1 and lines[-1][1].startswith("Log limit reached")
    assert job.has_errors


def test_an_action_polluting_prototypes_leaves_the_next_action_clean(action_host: Host) -> None:
    run_action(action_host, "pollute")
    job = run_action(action_host, "checkClean")
    assert job.results == {"results": {"status": "ok", "response": "undefined,function"}}


def test_waiting_on_its_own_child_with_one_slot_times_out_without_deadlock(
    action_host: Host,
) -> None:
    parent = run_action(action_host, "waitOwnChild")
    response = (parent.results or {})["results"]["response"]
    code, child_id = response.split(" ")
    assert code == "timeout"
    child = action_host.engine.wait(child_id, ["FINISHED"], 30)  # it runs once the slot frees
    assert child.results == {"results": {"status": "ok", "response": "touched"}}
    assert child.parent_id is None or child.parent_id == parent.id


@pytest.fixture(scope="module")
def process_sandbox(
    tmp_path_factory: pytest.TempPathFactory, launcher: Launcher
) -> Iterator[ProcessSandbox]:
    url = f"sqlite:///{tmp_path_factory.mktemp('killers') / 'k.db'}"
    Host(url).close()  # migrate once in the parent
    factory = SandboxFactory("sysjobs.host:host_sandbox", {"db_url": url, "timeout_s": 5.0})
    # A 32 MB heap caps the child's V8 old space at 64 MB (twice the heap, as in worker
    # processes): the one huge array is four times that; the ArrayBuffers still meet the
    # data limit.
    limits = Limits(timeout_s=5.0, heap_bytes=32 * 1024 * 1024)
    sandbox = ProcessSandbox(factory, limits, launcher=launcher)
    yield sandbox
    sandbox.close()


@pytest.mark.chaos_heavy  # ~15 s each on a busy machine; the core sandbox's twin runs always
@pytest.mark.parametrize("hostile", PROCESS_KILLERS, ids=[k.name for k in PROCESS_KILLERS])
def test_a_script_that_kills_its_process_is_a_memory_limit_and_the_child_is_replaced(
    process_sandbox: ProcessSandbox, hostile: Hostile
) -> None:
    result = process_sandbox.run(hostile.source, timeout_s=20.0)  # generous: a loaded machine
    assert result.outcome is Outcome.MEMORY_LIMIT and result.error is not None
    assert result.error.code == hostile.code
    after = process_sandbox.run("sys.data.count('companies', {})")
    assert (after.outcome, after.value) == (Outcome.OK, 5)


def test_the_app_dir_helper_writes_a_loadable_app(tmp_path: Path) -> None:
    from sysjobs.app.definition import load_app

    definition = load_app(app_dir(tmp_path, {"a": "return 1;"}))
    assert definition.action(None, "a") is not None
