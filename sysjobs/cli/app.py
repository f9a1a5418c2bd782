"""The root typer application that every command module registers on.

Help is plain text (``rich_markup_mode=None``, on every sub-app too): the rich layout
shows a ``<bool>`` type column for flags that take no value, and renders docstrings'
markup literally. A test reads every command's ``--help`` for both.
"""

import copy
from collections.abc import Sequence

import typer
from typer.main import get_command_name
from typer.models import CommandInfo, TyperInfo

app = typer.Typer(
    name="sysjobs",
    help="Run platform JavaScript in a V8 sandbox and manage background jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """Run platform JavaScript in a V8 sandbox and manage background jobs."""


def for_argv(root: typer.Typer, argv: Sequence[str]) -> typer.Typer:
    """``root`` with only the command or group that ``argv`` names at each level.

    typer builds a click command for every registered command before it parses anything —
    ~40 ms of CPU for the 33 commands, an eighth of ``sysjobs jobs ls`` — while a command
    line runs one. Where ``argv`` names a command (``run``, ``jobs ls``) only its path is
    built; anything else (``--help``, a typo that gets a suggestion, no command) gets the
    whole tree, as before. The registered apps are not changed: copies are pruned.
    """
    name = argv[0] if argv else None
    for command in root.registered_commands:
        if name is not None and _command_name(command) == name:
            return _pruned(root, commands=[command], groups=[])
    for group in root.registered_groups:
        if name is not None and group.typer_instance and _group_name(group) == name:
            only = copy.copy(group)
            only.typer_instance = for_argv(group.typer_instance, argv[1:])
            return _pruned(root, commands=[], groups=[only])
    return root


def _command_name(info: CommandInfo) -> str | None:
    if isinstance(info.name, str):
        return info.name
    return get_command_name(info.callback.__name__) if info.callback is not None else None


def _group_name(info: TyperInfo) -> str | None:
    for name in (info.name, info.typer_instance.info.name if info.typer_instance else None):
        if isinstance(name, str):
            return name
    return None


def _pruned(root: typer.Typer, *, commands: list[CommandInfo], groups: list[TyperInfo]
            ) -> typer.Typer:  # fmt: skip
    pruned = copy.copy(root)
    pruned.registered_commands, pruned.registered_groups = commands, groups
    return pruned
