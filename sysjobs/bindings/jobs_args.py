"""The argument models of ``sys.jobs``: where script input is validated, once.

Each model names its fields exactly as the spec names the parameters, so the bridge's
messages ("Invalid value … for parameter 'jobId' …") speak the script's language.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

_ID = re.compile(r"[0-9a-f]{24}")
#: Statuses ``waitForJob`` accepts, in the spec's order.
WAIT_STATUSES = ("PENDING", "RUNNING", "FINISHED", "STOPPING", "STOPPED", "CANCELING", "CANCELED")


def shown(value: Any) -> str:
    """A value as messages quote it: strings in single quotes, the rest as JSON."""
    return f"'{value}'" if isinstance(value, str) else json.dumps(value, default=str)


def check_id(value: object, parameter: str) -> str:
    """``value`` if it is a job ID; otherwise the spec's ``badRequest`` message."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(
            f"Invalid value {shown(value)} for parameter '{parameter}': "
            "an ID is 24 lowercase hexadecimal characters (0-9, a-f)."
        )
    return value


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class FindByIdArgs(_Args):
    id: str

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: object, info: ValidationInfo) -> str:
        return check_id(v, "id")


class JobIdArgs(_Args):
    jobId: str

    @field_validator("jobId", mode="before")
    @classmethod
    def _id(cls, v: object, info: ValidationInfo) -> str:
        return check_id(v, "jobId")


class FindArgs(_Args):
    #: The spec's query map; the engine validates its keys and values.
    query: dict[str, Any]


class LogsArgs(JobIdArgs):
    query: dict[str, Any]


class JobLogsArgs(LogsArgs):
    """``Job.logs(query)``: the query may be omitted."""

    query: dict[str, Any] = Field(default_factory=dict)


class JobLogArgs(JobIdArgs):
    level: Literal["INFO", "ERROR"]
    message: str


class LogArgs(_Args):
    """``logInfo([jobId,] message)``: no jobId means the current job."""

    jobId: str | None = None
    level: Literal["INFO", "ERROR"]
    message: str

    @field_validator("jobId", mode="before")
    @classmethod
    def _id(cls, v: object, info: ValidationInfo) -> str | None:
        return None if v is None else check_id(v, "jobId")


class WaitArgs(JobIdArgs):
    desiredStatus: tuple[str, ...]
    maxTimeToWait: Annotated[float, Field(strict=True, ge=0)]

    @field_validator("desiredStatus", mode="before")
    @classmethod
    def _statuses(cls, v: Any) -> tuple[str, ...]:
        items = [v] if isinstance(v, str) else v
        allowed = ", ".join(WAIT_STATUSES)
        if not isinstance(items, list) or not items:
            raise ValueError(
                f"Invalid value {shown(v)} for parameter 'desiredStatus': "
                f"a status or a non-empty array of statuses. Allowed values: {allowed}."
            )
        for item in items:
            if item not in WAIT_STATUSES:
                raise ValueError(
                    f"Invalid value {shown(item)} for parameter 'desiredStatus'. "
                    f"Allowed values: {allowed}."
                )
        return tuple(items)
