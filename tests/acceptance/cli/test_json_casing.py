"""One JSON casing: every key sysjobs writes — the CLI's ``--json`` and the HTTP API — is
camelCase, as the API's (``logsDropped``, never ``logs_dropped``). Keys inside user values
(a job's ``data``, ``results``, ``runBy``, an error's ``info``, a script's ``value``) are the
user's and kept as given."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from sysjobs.host import Host
from sysjobs.web.app import create_app
from sysjobs.web.auth import AuthConfig
from tests.acceptance.cli.conftest import Cli

#: Values that belong to users: their keys are not sysjobs's.
USER_VALUES = {"data", "results", "runBy", "info", "value", "byStatus"}


def snake_keys(value: Any, where: str = "") -> Iterator[str]:
    """Every key with an underscore, outside user values, as a path."""
    if isinstance(value, dict):
        for key, item in value.items():
            if "_" in key:
                yield f"{where}.{key}"
            if key not in USER_VALUES:
                yield from snake_keys(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from snake_keys(item, f"{where}[{n}]")


def test_the_checker_finds_snake_case_keys() -> None:
    found = list(snake_keys({"a": [{"logs_dropped": 1}], "data": {"my_key": 1}}))
    assert found == [".a[0].logs_dropped"]


def test_every_json_output_of_the_cli_is_camel_case(cli: Cli, host: Host, tmp_path: Path) -> None:
    job = host.engine.enqueue("STEPS", {"steps": 1, "step_s": 0.0, "user_key": 1})
    with host.workers(1, in_process=True):
        host.engine.wait(job.id, "FINISHED", 30)
    script = tmp_path / "s.js"
    script.write_text("log('x'); ({some_key: 1})")
    outputs = [
        cli("jobs", "ls", "--json"), cli("jobs", "show", job.id, "--json"),
        cli("jobs", "logs", job.id, "--json"), cli("jobs", "stats", "--json"),
        cli("jobs", "wait", job.id, "--status", "FINISHED", "--json"),
        cli("jobs", "cancel", job.id, "--json"),  # an error object, as JSON
        cli("run", "--json", str(script)),
        # The job's JSON is printed the same wherever it ran: in this process's threads here.
        cli("run", "--in-job", "--in-process-workers", "--json", str(script)),
    ]  # fmt: skip
    for done in outputs:
        for line in done.stdout.splitlines():
            assert list(snake_keys(json.loads(line))) == [], line


@pytest.fixture
def client(host: Host, db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(host, AuthConfig("t0ken"), db_url=db_url)) as test_client:
        yield test_client


def test_a_console_scripts_result_in_the_api_is_camel_case(client: TestClient) -> None:
    source = "log('x'); for (var i = 0; i < 3; i++) log('y'); ({a_b: 1})"
    reply = client.post("/api/scripts", json={"source": source},
                        headers={"Authorization": "Bearer t0ken"})  # fmt: skip
    result = reply.json()["result"]
    assert list(snake_keys(reply.json())) == []
    assert (result["logsDropped"], result["value"]) == (0, {"a_b": 1})
    assert result["durationMs"] >= 0 and "logsDroppedBytes" in result
