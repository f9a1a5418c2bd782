"""``sysjobs jobs show|stop|force-stop|resume|cancel|kill|low-priority ID [ID…]``.

Every id is tried, in order; each outcome is reported as it comes (the job on stdout, or
its ``code: message`` line on stderr naming the id); the exit code is 2 when any failed.
"""

from __future__ import annotations

import json

from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli

MISSING = "0123456789abcdef01234567"


def test_show_prints_each_job_and_names_the_ones_that_failed(cli: Cli, host: Host) -> None:
    first = host.engine.enqueue("STEPS", {"steps": 1}, label="first").id
    second = host.engine.enqueue("STEPS", {"steps": 1}, label="second").id
    done = cli("jobs", "show", first, "nope", MISSING, second, "--json")
    assert done.returncode == 2
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["id"] for line in lines] == [first, "nope", MISSING, second]
    assert [line.get("label") for line in lines] == ["first", None, None, "second"]
    assert lines[1]["error"] == {
        "code": "badRequest",
        "message": "Invalid value 'nope' for argument 'ID'. Allowed values: a job id of "
        "24 lowercase hexadecimal characters (0-9, a-f)",
    }
    assert lines[2]["error"] == {"code": "notFound", "message": f"Job {MISSING} not found"}
    assert done.stderr.splitlines() == [
        lines[1]["error"]["code"] + ": " + lines[1]["error"]["message"],
        f"notFound: Job {MISSING} not found",
    ]


def test_show_of_good_ids_exits_zero_with_a_table_each(cli: Cli, host: Host) -> None:
    ids = [host.engine.enqueue("STEPS", {"steps": 1}, label=f"job {n}").id for n in range(3)]
    done = cli("jobs", "show", *ids)
    assert (done.returncode, done.stderr) == (0, "")
    assert all(job_id in done.stdout for job_id in ids)
    assert [label in done.stdout for label in ("job 0", "job 1", "job 2")] == [True] * 3
    blocks = done.stdout.split("\n\n")
    assert [ids[n] in block for n, block in enumerate(blocks)] == [True] * 3


def test_cancel_of_several_ids_cancels_each_and_reports_the_refused_one(
    cli: Cli, host: Host
) -> None:
    jobs = [host.engine.enqueue("STEPS", {"steps": 1}).id for _ in range(3)]
    host.engine.cancel(jobs[1])
    done = cli("jobs", "cancel", *jobs)
    assert done.returncode == 2
    assert done.stdout.splitlines() == [f"{jobs[0]} CANCELED 0%", f"{jobs[2]} CANCELED 0%"]
    assert done.stderr == (
        f"badRequest: Cannot cancel job {jobs[1]}: its status is CANCELED. "
        "Allowed only when the status is: PENDING, STOPPED, RUNNING, STOPPING\n"
    )
    assert {host.engine.require(j).status for j in jobs} == {"CANCELED"}


def test_kill_and_low_priority_take_several_ids(cli: Cli, host: Host) -> None:
    jobs = [host.engine.enqueue("STEPS", {"steps": 1}).id for _ in range(2)]
    flagged = cli("jobs", "low-priority", *jobs, "on", "--json")
    assert flagged.returncode == 0, flagged.stderr
    assert [json.loads(line)["lowPriority"] for line in flagged.stdout.splitlines()] == [
        True,
        True,
    ]
    killed = cli("jobs", "kill", *jobs, "--json")
    assert killed.returncode == 0, killed.stderr
    assert [json.loads(line)["status"] for line in killed.stdout.splitlines()] == [
        "CANCELED",
        "CANCELED",
    ]


def test_a_verb_needs_at_least_one_id(cli: Cli) -> None:
    for verb in ("show", "stop", "force-stop", "resume", "cancel", "kill"):
        done = cli("jobs", verb)
        assert done.returncode == 2
        assert done.stderr.startswith("badRequest: Missing argument 'ID")
        assert "Traceback" not in done.stderr


def test_hostile_ids_are_each_named_in_one_line(cli: Cli, host: Host) -> None:
    hostile = ["\ud800", "x" * 100_000, "NaN", "1e400", "0" * 24 + "\n", "'; DROP TABLE jobs;--"]
    done = cli("jobs", "stop", *hostile)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert len(lines) == len(hostile)
    assert all(line.startswith("badRequest: Invalid value '") for line in lines)
    assert "'\\ud800'" in lines[0] and "Traceback" not in done.stderr
    assert len(lines[1]) < 1000  # a long value is shortened in the message
