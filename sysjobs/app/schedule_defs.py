"""The manifest's ``schedules:`` section: cron schedules that start a listener or a script.

Keyed by name like the other sections, so an error reads as the path of the bad key
(``schedules.nightly.cron: invalid cron expression …``). The expression and the time zone
are checked here, where the manifest is loaded (``sysjobs.cron``): an app with a schedule
that can never run does not load. docs/schedules.md is the reference.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from sysjobs.cron import Cron, check_expression, check_timezone

#: A schedule's name: what the CLI, the dashboard and its jobs' labels call it.
SCHEDULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,99}")  # (fullmatch: "$" lets "\n" end it)
SCHEDULE_NAME_FORM = "a letter or '_', then letters, digits, '_' or '-' (at most 100)"


class ScheduleDef(BaseModel):
    """One schedule: when (``cron`` in ``timezone``) and what (``listener``, ``script``
    file or inline ``source``: exactly one of them)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )

    #: Five cron fields, or a macro such as ``@daily`` (``sysjobs.cron``).
    cron: str
    #: The IANA time zone the fields are read in.
    timezone: str = "UTC"
    #: The listener each tick starts as an EXECUTE_LISTENER job (its ``event`` says which
    #: schedule and tick).
    listener: str | None = None
    #: A script file of the app each tick runs as a RUN_SCRIPT job.
    script: str | None = None
    #: Inline JavaScript each tick runs as a RUN_SCRIPT job.
    source: str | None = Field(default=None, max_length=1_000_000)
    #: False: no tick fires (the schedule is listed as disabled).
    enabled: bool = Field(default=True, strict=True)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_expression(value)

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        # Each tick's job carries it in its data, which PostgreSQL cannot hold with a NUL.
        if value is not None and "\x00" in value:
            raise ValueError("invalid source (it holds a NUL character). Allowed values: "
                             "JavaScript without NUL "
                             "characters (write '\\u0000' in a string literal)")  # fmt: skip
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _one_target(self) -> ScheduleDef:
        given = [k for k in ("listener", "script", "source") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a schedule starts exactly one of listener, script or source (got "
                f"{', '.join(given) or 'none'})"
            )
        Cron.parse(self.cron, self.timezone)  # one that never matches (``0 0 31 2 *``)
        return self

    def parsed(self) -> Cron:
        """The expression in its zone (both checked when the manifest loaded)."""
        return Cron(self.cron, self.timezone)

    @property
    def target(self) -> str:
        """What it starts, as the CLI and the dashboard show it."""
        if self.listener is not None:
            return f"listener:{self.listener}"
        return f"script:{self.script}" if self.script is not None else "script:(inline)"


def check_schedule_names(value: Any) -> Any:
    """The section's keys must be schedule names (checked before anything inside them, so
    no message ever quotes a bad name raw)."""
    if isinstance(value, dict):
        for name in value:
            if not isinstance(name, str) or not SCHEDULE_NAME.fullmatch(name):
                raise ValueError(f"invalid schedule name {ascii(name)[:80]}. "
                                 f"Allowed values: {SCHEDULE_NAME_FORM}")  # fmt: skip
    return value


def check_schedule_targets(schedules: dict[str, ScheduleDef], listeners: set[str]) -> None:
    """Every listener a schedule names exists."""
    for name, schedule in schedules.items():
        if schedule.listener is not None and schedule.listener not in listeners:
            allowed = ", ".join(sorted(listeners)) or "none"
            shown = ascii(schedule.listener)[:80]
            raise ValueError(f"schedules.{name}.listener: unknown listener {shown}. "
                             f"Allowed values: {allowed}")  # fmt: skip
