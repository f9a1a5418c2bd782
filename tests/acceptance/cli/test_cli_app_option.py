"""``--app`` on every command (issue 18): each command that sees an app's jobs, records or
workers takes ``--app``. The exceptions are the groups (their commands take it) and ``demo``,
which runs the packaged samples, written for the demo app (``samples run --app`` runs a
folder's samples against any app)."""

from __future__ import annotations

from typing import Any

import pytest
import typer

import sysjobs.cli  # noqa: F401  (registers every command)
from sysjobs.cli.app import app
from tests.acceptance.cli.test_cli_help import COMMANDS

#: Commands without ``--app``, and why: see the module's docstring.
WITHOUT_APP = {("demo",)}


@pytest.fixture(scope="module")
def root() -> Any:
    """The click command tree of ``sysjobs``, built once: building it was most of the time
    (once per command looked up, ~3 s of CPU)."""
    return typer.main.get_command(app)


def _command(root: Any, path: tuple[str, ...]) -> Any:
    command = root
    for name in path:
        command = command.commands[name]
    return command


def test_every_command_takes_app_but_the_groups_and_demo(root: Any) -> None:
    leaves = [p for p in COMMANDS if not hasattr(_command(root, p), "commands")]
    missing = {p for p in leaves
               if not any("--app" in param.opts for param in _command(root, p).params)}  # fmt: skip
    assert missing == WITHOUT_APP
    assert {("db", "upgrade"), ("db", "prune"), ("serve",), ("worker",)} <= set(leaves)


def test_serve_and_worker_take_app_repeated(root: Any) -> None:
    for path in (("serve",), ("worker",)):
        (option,) = [p for p in _command(root, path).params if "--app" in p.opts]
        assert option.multiple, path
