"""Every command's ``--help`` is plain and clean: no literal markup (``--follow`` in double
backquotes once showed as is), no ``<bool>`` for a flag that takes no value."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

import sysjobs.cli  # noqa: F401  (registers every command)
from sysjobs.cli.app import app
from tests.acceptance.inprocess import sysjobs_in_process


def _paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from _paths(sub, (*path, name))


COMMANDS = list(_paths(typer.main.get_command(app)))


def test_every_command_is_checked() -> None:
    assert len(COMMANDS) > 30
    assert ("jobs", "logs") in COMMANDS and ("jobs", "start", "execute-action") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "sysjobs")
def test_help_has_no_backquotes_and_no_bool_metavar(tmp_path: Path, path: tuple[str, ...]) -> None:
    done = sysjobs_in_process(*path, "--help", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"Usage: sysjobs {' '.join(path)}".rstrip())
    assert "`" not in done.stdout
    assert "<bool>" not in done.stdout
    assert "[/" not in done.stdout and "[bold" not in done.stdout


def test_flags_are_listed_without_a_value(tmp_path: Path) -> None:
    done = sysjobs_in_process("jobs", "logs", "--help", cwd=tmp_path)
    follow = next(line for line in done.stdout.splitlines() if "Stream new lines" in line)
    assert follow.split() == ["-f,", "--follow", "Stream", "new", "lines", "until", "the", "job",
                              "ends."]  # fmt: skip
    assert "--follow streams it with a progress bar" in done.stdout
