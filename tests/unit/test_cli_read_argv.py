"""``jobs ls`` / ``jobs show`` command lines read without typer's parse
(``sysjobs.cli.read_argv``) give the commands exactly the arguments typer gives them; any
line it does not read plainly is left to typer (None), never guessed at."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from sysjobs.cli import jobs_cmd
from sysjobs.cli.read_argv import read_arguments


@pytest.fixture(autouse=True)
def no_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SYSJOBS_DB", "SYSJOBS_APP"):
        monkeypatch.delenv(name, raising=False)


def typer_arguments(command: Callable[..., Any], args: list[str]) -> dict[str, Any]:
    """What typer calls ``command`` with for ``args`` (its signature, its parse)."""
    seen: list[dict[str, Any]] = []

    @functools.wraps(command)
    def recording(**kwargs: Any) -> None:
        seen.append(kwargs)

    app = typer.Typer()
    app.command()(recording)
    app(args, standalone_mode=False, prog_name="sysjobs")
    (found,) = seen
    return found


PLAIN_LS = [
    [], ["--json"], ["--type", "RUN_SCRIPT"], ["--type", "A,B", "--type", "C"],
    ["--status", "PENDING", "--status=FINISHED"], ["--start-from", "2026-01-01T10:00"],
    ["--start-to", "5", "--end-from", "1", "--end-to", "9", "--create-from", "0"],
    ["--create-to", "x y"], ["--has-errors"], ["--no-errors", "--json"], ["-n", "0"],
    ["--size", "9223372036854775808"], ["--size=7"], ["--root", "abc"], ["--tree", "abc"],
    ["--db", "sqlite:///x.db"], ["--db=postgresql://u@h/db", "--app", "key"],
    ["--app", "some/folder", "-n", "3", "--type=é\u4e2d"], ["--type", ""], ["--app", ""],
    ["--type", "a=b"], ["--status", "\ud800"],
]  # fmt: skip
PLAIN_SHOW = [
    ["0123456789abcdef01234567"], ["a", "b", "--json"], ["--json", "a"], ["a", "--db", "sqlite:///y.db", "b"],
    ["x", "--app", "k"], ["\ud800"],
]  # fmt: skip


@pytest.mark.parametrize("args", PLAIN_LS)
def test_a_plain_ls_line_gets_what_typer_gives(args: list[str]) -> None:
    read = read_arguments(["jobs", "ls", *args])
    assert read is not None
    assert read == ("ls", typer_arguments(jobs_cmd.ls, args))


@pytest.mark.parametrize("args", PLAIN_SHOW)
def test_a_plain_show_line_gets_what_typer_gives(args: list[str]) -> None:
    read = read_arguments(["jobs", "show", *args])
    assert read is not None
    assert read == ("show", typer_arguments(jobs_cmd.show, args))


def test_the_database_and_app_come_from_the_environment_as_with_typer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {"SYSJOBS_DB": "sqlite:///env.db", "SYSJOBS_APP": "envapp"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for args in ([], ["--db", "sqlite:///given.db"], ["--app", "given"]):
        read = read_arguments(["jobs", "ls", *args])
        assert read == ("ls", typer_arguments(jobs_cmd.ls, args)), args
    assert read_arguments(["jobs", "ls"])[1]["app_dir"] == Path("envapp")  # type: ignore[index]


@pytest.mark.parametrize(
    "argv",
    [
        ["jobs"], ["jobs", "logs", "x"], ["run", "x.js"], ["jobs", "ls", "--help"],
        ["jobs", "ls", "extra"], ["jobs", "ls", "--bogus"], ["jobs", "ls", "--type"],
        ["jobs", "ls", "--type", "--json"], ["jobs", "ls", "--size", "1", "--size", "2"],
        ["jobs", "ls", "--json", "--json"], ["jobs", "ls", "--has-errors", "--no-errors"],
        ["jobs", "ls", "--size", "abc"], ["jobs", "ls", "--size", "-1"], ["jobs", "ls", "--size", "007"],
        ["jobs", "ls", "--size", " 7"], ["jobs", "ls", "-n5"], ["jobs", "ls", "-n=5"],
        ["jobs", "ls", "--json=1"], ["jobs", "ls", "--"], ["jobs", "ls", "-"],
        ["jobs", "ls", "--db", "x.db"], ["jobs", "ls", "--db"], ["jobs", "show"],
        ["jobs", "show", "--json"], ["jobs", "show", "a", "--type", "x"], ["jobs", "show", "-x"],
        ["jobs", "show", "a", "--help"], ["jobs", "ls", "--size", "1" * 25],
    ],
)  # fmt: skip
def test_anything_else_is_left_to_typer(argv: list[str]) -> None:
    assert read_arguments(argv) is None


def test_an_empty_or_path_database_variable_is_left_to_typer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for value in ("", "x.db"):
        monkeypatch.setenv("SYSJOBS_DB", value)
        assert read_arguments(["jobs", "ls"]) is None
    assert read_arguments(["jobs", "ls", "--db", "sqlite:///given.db"]) is not None
