"""``sysjobs jobs stats --watch``: the figures redrawn every ``--interval`` seconds.

The wait between two refreshes is ``stats_cmd.pause``: each test puts its own there, which
changes the database between frames instead of sleeping, and ``--count`` bounds the run.
"""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from sysjobs.cli import jobs_view, stats_cmd
from sysjobs.host import Host
from tests.acceptance.cli.conftest import Cli


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch, host: Host) -> list[float]:
    """Each pause enqueues a job (so the next frame differs) and records the interval."""
    seen: list[float] = []

    def pause(seconds: float) -> None:
        seen.append(seconds)
        host.engine.enqueue("STEPS", {"steps": 1})

    monkeypatch.setattr(stats_cmd, "pause", pause)
    return seen


def test_watch_redraws_count_times_with_the_interval_between(
    cli: Cli, pauses: list[float]
) -> None:
    done = cli("jobs", "stats", "--watch", "--interval", "7.5", "--count", "3")
    assert (done.returncode, done.stderr) == (0, "")
    assert pauses == [7.5, 7.5]
    depths = [line.split(" · ")[0] for line in done.stdout.splitlines() if "queue depth" in line]
    assert depths == ["queue depth 0", "queue depth 1", "queue depth 2"]
    assert done.stdout.count("every 7.5s · Ctrl-C to stop") == 3


def test_watch_with_json_prints_one_document_per_refresh(cli: Cli, pauses: list[float]) -> None:
    done = cli("jobs", "stats", "-w", "--count", "2", "--json")
    assert done.returncode == 0, done.stderr
    frames = [json.loads(line) for line in done.stdout.splitlines()]
    assert [f["pending"] for f in frames] == [0, 1]
    assert pauses == [2.0]


def test_on_a_terminal_watch_redraws_in_place(
    monkeypatch: pytest.MonkeyPatch, host: Host, pauses: list[float]
) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120, highlight=False)
    monkeypatch.setattr(jobs_view, "console", lambda: terminal)
    stats_cmd.refresh(host.engine, 3600.0, 1.0, 2, as_json=False)
    shown = screen.getvalue()
    assert "queue depth 0" in shown and "queue depth 1" in shown
    assert "\x1b[2K" in shown or "\x1b[1A" in shown  # the second frame erased the first


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # refused before it is opened
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--interval", "0"), "Invalid value for '--interval'"),
        (("--interval", "nan"), "Invalid value for '--interval'"),
        (("--count", "0"), "Invalid value for '--count'"),
        (("--count", "1e400"), "Invalid value for '--count'"),
    ],
)
def test_bad_watch_values_name_the_flag(cli: Cli, args: tuple[str, ...], message: str) -> None:
    done = cli("jobs", "stats", "--watch", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(f"badRequest: {message}") and done.stderr.count("\n") == 1


def test_ctrl_c_ends_watching_quietly(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(stats_cmd, "pause", interrupted)
    done = cli("jobs", "stats", "--watch")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.count("queue depth 0") == 1
