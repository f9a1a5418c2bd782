"""``sysjobs logs app``: the app's own log (``sys.logs``) for people and, with ``--json``,
for programs; filtered by level, text and period; bad options are one ``code: message``."""

from __future__ import annotations

import json

import pytest

from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


def _write(host: Host) -> None:
    result = host.run("sys.logs.info('Disk OK'); sys.logs.warn('disk almost full'); "
                      "sys.logs.error('Disk FULL', new RangeError('too big')); "
                      "sys.logs.debug('cpu', {load: 0.5})")  # fmt: skip
    assert result.ok, result.error


def test_prints_the_app_log_oldest_first(cli: Cli, host: Host) -> None:
    _write(host)
    shown = cli("logs", "app")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "INFO  Disk OK", "WARN  disk almost full", "ERROR Disk FULL", "DEBUG cpu"]


def test_json_has_the_exception_and_the_filters_work(cli: Cli, host: Host) -> None:
    _write(host)
    out = cli("logs", "app", "--level", "ERROR", "--json").stdout.splitlines()
    (line,) = [json.loads(text) for text in out]
    assert line["message"] == "Disk FULL" and line["level"] == "ERROR"
    assert line["additionalInfo"]["name"] == "RangeError" and line["jobId"] is None
    matching = cli("logs", "app", "--contains", "disk", "--period", "1h", "--json").stdout
    assert [json.loads(t)["message"] for t in matching.splitlines()] == [
        "Disk OK", "disk almost full", "Disk FULL"]
    first = cli("logs", "app", "-n", "1", "--json").stdout.splitlines()
    assert [json.loads(t)["message"] for t in first] == ["Disk OK"]


@pytest.mark.parametrize(("args", "fragment"), [
    (("--level", "TRACE"), "INFO, WARN, ERROR, DEBUG"),
    (("--period", "forever"), "period"),
    (("--contains", "\ud800"), "message"),
    (("-n", "0"), "--size"),
])  # fmt: skip
def test_a_bad_option_is_one_line_naming_it(cli: Cli, host: Host, args: tuple[str, ...],
                                            fragment: str) -> None:  # fmt: skip
    _write(host)
    ran = cli("logs", "app", *args)
    assert ran.returncode != 0
    assert ran.stderr.startswith("badRequest: ") and fragment in ran.stderr
    assert "Traceback" not in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
