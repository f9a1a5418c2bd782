"""One host for the hostile scripts: a real SQLite file, the demo app, small limits and caps,
and an in-process worker pool running RUN_SCRIPT / EXECUTE_ACTION jobs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sysjobs.host import Host
from sysjobs.jobs import EngineSettings, Job, caps
from sysjobs.runtime import Limits
from sysjobs.worker.pool import WorkerPool

#: Small caps so that floods hit them quickly.
CAPS = caps.Caps(max_log_lines=200, max_message_chars=10_000, max_result_bytes=100_000)
SETTINGS = EngineSettings(caps=CAPS)
#: A 16 MB heap: the memory bombs of the catalog reach it in a fraction of the CPU a 32 MB
#: heap took (V8 collects more and more often near its limit; under load one of them ran
#: past its 10 s deadline at 32 MB); the largest other script holds a few megabytes.
LIMITS = Limits(timeout_s=1.0, heap_bytes=16 * 1024 * 1024)
DONE = ["FINISHED", "STOPPED", "CANCELED"]


@pytest.fixture(scope="package")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    path = tmp_path_factory.mktemp("hostile") / "hostile.db"
    opened = Host(f"sqlite:///{path}", limits=LIMITS, pool_size=1, settings=SETTINGS)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="package")
def workers(host: Host) -> Iterator[WorkerPool]:
    # In-process (opted in): the caps above are configured on this engine, and these scripts
    # stay within the limits a process can survive; the worker-process path has its own tests.
    pool = host.workers(concurrency=2, lease_s=5.0, in_process=True)
    pool.start()
    try:
        yield pool
    finally:
        pool.stop(grace_s=5.0)


def run_job(host: Host, source: str, timeout_s: float = 1.0) -> Job:
    """Run ``source`` as a RUN_SCRIPT job through the worker pool; the ended job."""
    job = host.start_script_job(source, label="hostile", timeout_s=timeout_s)
    return host.engine.wait(job.id, DONE, 60)


def assert_host_alive(host: Host) -> None:
    """A direct run and a job both still work."""
    assert host.run("log('alive'); 6 * 7").value == 42
    job = run_job(host, "log('next'); 6 * 7")
    assert (job.status, job.results, job.has_errors) == ("FINISHED", {"value": 42}, False)


def app_dir(tmp: Path, actions: dict[str, str]) -> Path:
    """A one-entity app (with a ``touch`` action) whose global actions run the scripts."""
    (tmp / "actions").mkdir(parents=True, exist_ok=True)
    lines = [
        "name: hostile",
        "entities:",
        "  things:",
        "    labelField: name",
        "    fields:",
        "      name: {type: text, required: true}",
        "    actions:",
        "      touch:",
        "        kind: manyRecords",
        "        label: touch",
        "        script: actions/touch.js",
        "        returnsResponse: true",
        "actions:",
    ]
    (tmp / "actions" / "touch.js").write_text("return 'touched';")
    for name, source in actions.items():
        (tmp / "actions" / f"{name}.js").write_text(source)
        lines += [
            f"  {name}:",
            "    kind: global",
            f"    label: {name}",
            f"    script: actions/{name}.js",
            "    returnsResponse: true",
        ]
    lines += ["seed:", "  things:", "    - {name: one}"]
    (tmp / "app.yaml").write_text("\n".join(lines) + "\n")
    return tmp


def lines_of(host: Host, job_id: str) -> list[tuple[str, str]]:
    return [(entry.level, entry.message) for entry in host.engine.logs(job_id, {})]
