"""``sysjobs jobs ls|show|logs|stats``: tables for people, ``--json`` for programs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


def _finished(host: Host, label: str, steps: int = 2) -> str:
    job = host.engine.enqueue("STEPS", {"steps": steps, "step_s": 0.0, "_secret": "s"},
                              label=label)  # fmt: skip
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "FINISHED", 30)
    return job.id


def test_ls_prints_a_table_and_json_with_the_spec_filters(cli: Cli, host: Host) -> None:
    done = _finished(host, "Nightly report")
    pending = host.engine.enqueue("STEPS", {"steps": 1}, label="Waiting job").id
    table = cli("jobs", "ls")
    assert table.returncode == 0, table.stderr
    assert "2 of 2 jobs" in table.stdout
    assert "Nightly report" in table.stdout and "Waiting job" in table.stdout
    listed = json.loads(cli("jobs", "ls", "--status", "FINISHED", "--json").stdout)
    assert (listed["count"], [j["id"] for j in listed["jobs"]]) == (1, [done])
    assert listed["jobs"][0]["data"] == {"steps": 2, "step_s": 0.0}
    newest = json.loads(
        cli("jobs", "ls", "--status", "PENDING,FINISHED", "-n", "1", "--json").stdout
    )
    assert (newest["count"], [j["id"] for j in newest["jobs"]]) == (2, [pending])
    future = datetime.now(UTC).replace(year=2100).isoformat()
    none = json.loads(cli("jobs", "ls", "--create-from", future, "--json").stdout)
    assert none["count"] == 0
    no_errors = json.loads(cli("jobs", "ls", "--no-errors", "--json").stdout)
    assert no_errors["count"] == 2
    other_type = json.loads(
        cli("jobs", "ls", "--type", "RUN_SCRIPT,EXPORT_RECORDS", "--json").stdout
    )
    assert other_type["count"] == 0


def test_show_and_logs(cli: Cli, host: Host) -> None:
    job_id = _finished(host, "Shown", steps=3)
    host.engine.log_error(job_id, "Disk full")
    shown = json.loads(cli("jobs", "show", job_id, "--json").stdout)
    assert (shown["status"], shown["results"], shown["data"]) == (
        "FINISHED",
        {"done": 3},
        {"steps": 3, "step_s": 0.0},
    )
    text = cli("jobs", "show", job_id).stdout
    assert "FINISHED" in text and "_secret" not in text
    logs = cli("jobs", "logs", job_id)
    assert logs.returncode == 0
    assert [line.split(maxsplit=3)[3] for line in logs.stdout.splitlines()] == [
        "step 1 of 3",
        "step 2 of 3",
        "step 3 of 3",
        "Disk full",
    ]
    errors = cli("jobs", "logs", job_id, "--level", "ERROR", "--json").stdout.splitlines()
    assert [json.loads(line)["message"] for line in errors] == ["Disk full"]
    matching = cli("jobs", "logs", job_id, "--message", "STEP 2", "--period", "1h").stdout
    assert "step 2 of 3" in matching and "step 1" not in matching


def test_stats(cli: Cli, host: Host) -> None:
    _finished(host, "counted")
    host.engine.enqueue("STEPS", {"steps": 1})
    stats = json.loads(cli("jobs", "stats", "--json").stdout)
    assert (stats["pending"], stats["running"], stats["finishedInWindow"]) == (1, 0, 1)
    assert stats["lostLeasesTotal"] == 0
    text = cli("jobs", "stats").stdout
    assert "queue depth 1" in text and "lost leases 0" in text


def test_markup_in_labels_and_messages_is_printed_as_text(cli: Cli, host: Host) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1}, label="[red]odd[/] [bold")
    host.engine.log_info(job.id, "a [/] message [x]")
    listed = cli("jobs", "ls")
    assert listed.returncode == 0 and "[red]odd[/] [bold" in listed.stdout
    logs = cli("jobs", "logs", job.id)
    assert logs.returncode == 0 and logs.stdout.rstrip().endswith("a [/] message [x]")
