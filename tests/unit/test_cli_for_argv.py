"""The command line builds only the command it runs (``sysjobs.cli.app.for_argv``): the
path ``argv`` names, with the same parameters as in the whole tree; anything that is not a
command path (help, a typo, nothing) gets the whole tree, so help and suggestions are
unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import typer.main
from typer.core import TyperGroup

from sysjobs.cli import app
from sysjobs.cli.app import for_argv

FULL = typer.main.get_command(app)
assert isinstance(FULL, TyperGroup)


def _params(command: Any) -> list[tuple[Any, ...]]:
    return [(p.name, tuple(p.opts), tuple(p.secondary_opts), p.required) for p in command.params]


def _paths(group: TyperGroup, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, TyperGroup):
            found.extend(_paths(command, (*prefix, name)))
    return found


def _walk(group: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        assert isinstance(group, TyperGroup)
        group = group.commands[name]
    return group


@pytest.mark.parametrize("path", _paths(FULL), ids=" ".join)
def test_a_command_path_builds_that_command_alone_with_the_same_parameters(
    path: tuple[str, ...],
) -> None:
    pruned = typer.main.get_command(for_argv(app, [*path, "--some-option", "value"]))
    level: Any = pruned
    for name in path:
        assert isinstance(level, TyperGroup)
        if not isinstance(_walk(FULL, path), TyperGroup) or name != path[-1]:
            assert list(level.commands) == [name]
        level = level.commands[name]
    assert _params(level) == _params(_walk(FULL, path))
    assert level.help == _walk(FULL, path).help


@pytest.mark.parametrize("argv", [[], ["--help"], ["rn", "x.js"], ["jobs"], ["jobs", "lss"],
                                  ["jobs", "--help"]])  # fmt: skip
def test_help_a_typo_or_no_command_gets_the_whole_tree_at_that_level(argv: list[str]) -> None:
    pruned = typer.main.get_command(for_argv(app, argv))
    assert isinstance(pruned, TyperGroup)
    if argv[:1] == ["jobs"]:
        jobs = pruned.commands["jobs"]
        assert list(pruned.commands) == ["jobs"]
        assert isinstance(jobs, TyperGroup)
        assert set(jobs.commands) == set(_walk(FULL, ("jobs",)).commands)
    else:
        assert set(pruned.commands) == set(FULL.commands)


def test_pruning_leaves_the_registered_app_whole() -> None:
    for_argv(app, ["jobs", "ls"])
    whole = typer.main.get_command(app)
    assert isinstance(whole, TyperGroup)
    assert set(whole.commands) == set(FULL.commands)
