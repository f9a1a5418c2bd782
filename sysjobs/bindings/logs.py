"""``sys.logs``: the app's own log — ``info|warn|error|debug(message, exception)``.

Lines go to the engine's app log (``Engine.app_log``), stored per app and apart from every
job's log; the job the script runs in, if any, is noted with each line. ``message`` is a
string and ``exception`` (optional) an Error — sent as its name, message and stack — or any
JSON value; both are checked where they enter (:func:`sysjobs.jobs.values.check_text` and
:func:`~sysjobs.jobs.values.check_json`: NaN, ±Infinity, BigInt, circular or too deep
values and lone surrogates are ``badRequest`` naming the parameter). The UTF-8 bytes of the
message and of the exception's JSON count against the run's ``logBytes`` budget
(``limitExceeded`` past it), as ``log()`` lines do; each line is capped like a job's line.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from sysjobs.bindings.commons import bounded
from sysjobs.jobs import Engine
from sysjobs.jobs.values import check_json, check_text
from sysjobs.runtime.governor import LOG_BYTES, utf8_size
from sysjobs.runtime.namespace import CallContext, Namespace, Operation

_PRELUDE = resources.files("sysjobs.bindings").joinpath("logs.js").read_text("utf-8")


class WriteArgs(BaseModel):
    """One line: its level (set by the prelude), message and optional exception."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    level: Literal["INFO", "WARN", "ERROR", "DEBUG"]
    message: str
    exception: Any = None

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, v: object) -> object:
        return check_text(v, "message") if isinstance(v, str) else v

    @field_validator("exception", mode="before")
    @classmethod
    def _exception(cls, v: object) -> object:
        return check_json(v, "exception")


def _size(args: WriteArgs) -> int:
    """The bytes a line costs the run: its message and its exception's JSON."""
    extra = 0 if args.exception is None else utf8_size(json.dumps(args.exception))
    return utf8_size(args.message) + extra


def logs_namespace(engine: Engine) -> Namespace:
    """The ``sys.logs`` namespace over ``engine``'s app log."""

    def write(ctx: CallContext, args: WriteArgs) -> None:
        ctx.charge(LOG_BYTES, _size(args))
        engine.app_log(args.level, args.message, args.exception, job_id=ctx.job_id)

    return Namespace(
        name="logs", prelude=_PRELUDE, operations=(bounded(Operation("write", WriteArgs, write)),)
    )
