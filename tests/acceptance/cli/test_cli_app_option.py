"""``--app`` on every command (issue 18): each command that sees an app's jobs, records or
workers takes ``--app``. The exceptions are the groups (their commands take it) and ``demo``,
which runs the packaged samples, written for the demo app (``samples run --app`` runs a
folder's samples against any app)."""

from __future__ import annotations

from typing import Any

import typer

import sysjobs.cli  # noqa: F401  (registers every command)
from sysjobs.cli.app import app
from tests.acceptance.cli.test_cli_help import COMMANDS

#: Commands without ``--app``, and why: see the module's docstring.
WITHOUT_APP = {("demo",)}


def _command(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


def _is_group(path: tuple[str, ...]) -> bool:
    return hasattr(_command(path), "commands")


def test_every_command_takes_app_but_the_groups_and_demo() -> None:
    leaves = [p for p in COMMANDS if not _is_group(p)]
    missing = {p for p in leaves
               if not any("--app" in param.opts for param in _command(p).params)}  # fmt: skip
    assert missing == WITHOUT_APP
    assert {("db", "upgrade"), ("db", "prune"), ("serve",), ("worker",)} <= set(leaves)


def test_serve_and_worker_take_app_repeated() -> None:
    for path in (("serve",), ("worker",)):
        (option,) = [p for p in _command(path).params if "--app" in p.opts]
        assert option.multiple, path
