"""Expectation comments: what a sample without a sidecar says it must do, inside itself.

Whole-line comments anywhere in the sample::

    // expect: ok                      (or: error)
    // expect-log: ^job: .+$           one regex per log() line, in order, same count
    // expect-error: notFound          a platform code (lowercase) or a JS error name
    // expect-error-message: null      a regex searched in the error message
    // run: in-job, no-workers, timeout=5

An unknown ``// expect-…:`` comment, a bad value, an invalid regex or a contradiction is a
:class:`SampleSourceError` naming the file and line: a typo must not check nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sysjobs.errors import BadRequest

_DIRECTIVE = re.compile(r"^\s*//\s*(?P<key>expect(?:-[a-z-]+)?|run)\s*:(?P<value>.*)$")
_CODE = re.compile(r"^[a-z][A-Za-z]*$")
_NAME = re.compile(r"^[A-Z][A-Za-z]*$")
_OUTCOMES = ("ok", "error")
_RUN_FLAGS = "in-job, no-workers, timeout=SECONDS"


class SampleSourceError(BadRequest):
    """A sample, page, sidecar or comment that cannot be read; the message names the file."""


def has_directives(source: str) -> bool:
    """Whether ``source`` holds any expectation comment."""
    return any(_DIRECTIVE.match(line) for line in source.splitlines())


@dataclass
class Directives:
    """What the expectation comments of one sample said."""

    expect: dict[str, Any] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    in_job: bool = False
    workers: bool = True
    timeout_s: float = 30.0
    seen: bool = False


def parse_directives(source: str, *, origin: str, first_line: int = 1) -> Directives:
    """The expectation comments of ``source``; an unknown or contradictory one is an error."""
    found = Directives()
    for offset, line in enumerate(source.splitlines()):
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        where = f"{origin}:{first_line + offset}"
        _apply(found, match.group("key"), match.group("value").strip(), where)
        found.seen = True
    if found.expect.get("outcome") == "ok" and _wants_error(found.expect):
        raise SampleSourceError(
            f"{origin}: says both 'expect: ok' and what error to expect; keep one"
        )
    if _wants_error(found.expect):
        found.expect["outcome"] = "error"
    return found


def _wants_error(expect: dict[str, Any]) -> bool:
    return any(k in expect for k in ("error_code", "error_name", "error_message"))


def _apply(found: Directives, key: str, value: str, where: str) -> None:
    if key == "run":
        _apply_run(found, value, where)
        return
    if not value:
        raise SampleSourceError(f"{where}: '// {key}:' needs a value")
    if key == "expect":
        if value not in _OUTCOMES:
            raise SampleSourceError(
                f"{where}: invalid value {value!r} for 'expect'. Allowed values: ok, error"
            )
        found.expect["outcome"] = value
    elif key == "expect-log":
        found.logs.append(_regex(value, where))
    elif key == "expect-error":
        found.expect.update(_error_kind(value, where))
    elif key == "expect-error-message":
        found.expect["error_message"] = _regex(value, where)
    else:
        raise SampleSourceError(
            f"{where}: unknown expectation '// {key}:'. Allowed: expect, expect-log, "
            f"expect-error, expect-error-message, run"
        )


def _regex(value: str, where: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise SampleSourceError(f"{where}: {value!r} is not a valid regex ({exc})") from None
    return value


def _error_kind(value: str, where: str) -> dict[str, str]:
    if _CODE.match(value):
        return {"error_code": value}
    if _NAME.match(value):
        return {"error_name": value}
    raise SampleSourceError(
        f"{where}: invalid value {value!r} for 'expect-error'. Allowed values: a platform "
        "code such as notFound, or a JavaScript error name such as TypeError"
    )


def _apply_run(found: Directives, value: str, where: str) -> None:
    for flag in _flags(value):
        if flag == "in-job":
            found.in_job = True
        elif flag == "no-workers":
            found.workers = False
        elif flag.startswith("timeout="):
            found.timeout_s = _seconds(flag.split("=", 1)[1], where)
        else:
            raise SampleSourceError(
                f"{where}: invalid value {flag!r} for 'run'. Allowed values: {_RUN_FLAGS}"
            )


def _flags(value: str) -> Sequence[str]:
    return [f.strip() for f in value.split(",") if f.strip()]


def _seconds(text: str, where: str) -> float:
    try:
        seconds = float(text.rstrip("s"))
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds <= 3600:  # also refuses NaN
        raise SampleSourceError(
            f"{where}: invalid value {text!r} for 'timeout'. Allowed values: seconds, "
            "more than 0 and at most 3600"
        )
    return seconds
