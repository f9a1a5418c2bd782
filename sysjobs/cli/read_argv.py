"""The command lines of ``sysjobs jobs ls`` and ``sysjobs jobs show`` read without typer's
parse, when they are plain (``docs/cli-read-path.md``).

typer 0.29 coerces every parameter of a command through a pydantic ``TypeAdapter`` built
for it on each run, given or not: for ``jobs ls``'s 14 parameters that is about a third of
the command's CPU, more than the read and the table together. A read command is run far
more often than it is mistyped, so a plain command line — every token a known option with
its value, a flag, or (``show``) a job id; each option once; ``--db``/``--app`` or their
environment variables — is read here into the very arguments typer would hand the command
(a test holds the two equal over a table of command lines), and the command is called with
them. Anything else — ``--help``, an unknown or repeated option, a value that looks like
an option, ``--``, a ``--size`` that is not plain digits, a ``--db`` that is not a URL —
answers None and goes through typer, which reports it as before.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

#: ``jobs ls``'s options that take a value, by every spelling, and their parameter.
LS_VALUES: Mapping[str, str] = {
    "--type": "type", "--status": "status", "--start-from": "start_from",
    "--start-to": "start_to", "--end-from": "end_from", "--end-to": "end_to",
    "--create-from": "create_from", "--create-to": "create_to", "--size": "size", "-n": "size",
    "--root": "root", "--tree": "root", "--db": "db", "--app": "app_dir",
}  # fmt: skip
#: ``jobs show``'s.
SHOW_VALUES: Mapping[str, str] = {"--db": "db", "--app": "app_dir"}
#: Options that may be given more than once (each value kept).
MULTIPLE = frozenset({"type", "status"})
#: Flags, and the value each sets.
LS_FLAGS: Mapping[str, tuple[str, bool]] = {
    "--has-errors": ("has_errors", True), "--no-errors": ("has_errors", False),
    "--json": ("as_json", True),
}  # fmt: skip
SHOW_FLAGS: Mapping[str, tuple[str, bool]] = {"--json": ("as_json", True)}
#: What typer hands a command for a parameter not given.
LS_DEFAULTS: Mapping[str, Any] = {
    "type": None, "status": None, "start_from": None, "start_to": None, "end_from": None,
    "end_to": None, "create_from": None, "create_to": None, "has_errors": None, "size": 50,
    "root": None, "db": None, "app_dir": None, "as_json": False,
}  # fmt: skip
SHOW_DEFAULTS: Mapping[str, Any] = {"db": None, "app_dir": None, "as_json": False}
#: The options read from the environment when not given.
ENVVARS: Mapping[str, str] = {"db": "SYSJOBS_DB", "app_dir": "SYSJOBS_APP"}
_DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")


class _NotPlain(Exception):
    """The command line is not one this module reads: typer's parse takes it."""


def read_command(argv: Sequence[str]) -> Callable[[], Any] | None:
    """The read command ``argv`` names, ready to run with the arguments typer would give it;
    None when ``argv`` is not a plain ``jobs ls`` / ``jobs show`` command line."""
    found = read_arguments(argv)
    if found is None:
        return None
    from sysjobs.cli import jobs_cmd

    name, options = found
    command: Callable[..., Any] = jobs_cmd.ls if name == "ls" else jobs_cmd.show
    return lambda: command(**options)


def read_arguments(argv: Sequence[str]) -> tuple[str, dict[str, Any]] | None:
    """``ls`` or ``show`` and the arguments typer would call it with; None when ``argv`` is
    not a plain command line of either."""
    if len(argv) < 2 or argv[0] != "jobs" or argv[1] not in ("ls", "show"):
        return None
    try:
        if argv[1] == "ls":
            options, ids = _read(argv[2:], LS_VALUES, LS_FLAGS, LS_DEFAULTS)
            if ids:
                raise _NotPlain
        else:
            options, ids = _read(argv[2:], SHOW_VALUES, SHOW_FLAGS, SHOW_DEFAULTS)
            if not ids:
                raise _NotPlain
            options["job_ids"] = ids
    except _NotPlain:
        return None
    return argv[1], options


def _read(
    tokens: Sequence[str], values: Mapping[str, str], flags: Mapping[str, tuple[str, bool]],
    defaults: Mapping[str, Any],
) -> tuple[dict[str, Any], list[str]]:  # fmt: skip
    """The options and the positional tokens (``_NotPlain`` for anything unusual)."""
    given: dict[str, Any] = {}
    positional: list[str] = []
    at = 0
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if not token.startswith("-") or token == "-":
            if token == "-":
                raise _NotPlain
            positional.append(token)
            continue
        name, has_value, value = token.partition("=")
        if name in flags and not has_value:
            key, flag = flags[name]
            _once(given, key, flag)
        elif name in values:
            if not has_value:
                if at >= len(tokens) or tokens[at].startswith("-"):
                    raise _NotPlain
                value = tokens[at]
                at += 1
            elif not name.startswith("--"):
                raise _NotPlain
            _set(given, values[name], value)
        else:
            raise _NotPlain
    return {**defaults, **_from_environment(given), **given}, positional


def _once(given: dict[str, Any], key: str, value: Any) -> None:
    if key in given:
        raise _NotPlain
    given[key] = value


def _set(given: dict[str, Any], key: str, value: str) -> None:
    if key in MULTIPLE:
        given.setdefault(key, []).append(value)
    elif key == "size":
        if not _DIGITS.fullmatch(value):
            raise _NotPlain
        _once(given, key, int(value))
    else:
        _once(given, key, _typed(key, value))


def _typed(key: str, value: str) -> Any:
    if key == "app_dir":
        return Path(value)
    if key == "db":
        from sysjobs.cli.options import database_url

        if "://" not in value:
            raise _NotPlain  # (refused with a hint: typer's parse reports it)
        return database_url(value)
    return value


def _from_environment(given: Mapping[str, Any]) -> dict[str, Any]:
    """``--db`` / ``--app`` from their environment variables, when not given."""
    found = {}
    for key, name in ENVVARS.items():
        value = os.environ.get(name)
        if key in given or value is None:
            continue
        if not value:
            raise _NotPlain  # (an empty variable: typer's rule, not restated here)
        found[key] = _typed(key, value)
    return found
