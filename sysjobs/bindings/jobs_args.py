"""The argument models of ``sys.jobs``: where script input is validated, once.

Each model names its fields exactly as the spec names the parameters, so the bridge's
messages ("Invalid value … for parameter 'jobId' …") speak the script's language. The rules
themselves live in the engine and are only called here: a job id is checked by
:func:`sysjobs.jobs.ids.check_job_id`, ``desiredStatus`` by
:func:`sysjobs.jobs.status.check_statuses`, a log message by
:func:`sysjobs.jobs.values.check_text` — one definition and one message each.

Lone UTF-16 surrogates in a log message are **refused** (``badRequest`` naming
``message``): no database can store them, and a replaced character would not be the line
the script wrote. ``maxTimeToWait`` is a finite number of milliseconds ``>= 0``.
``waitForJobs``' ``jobIds`` is checked by :func:`sysjobs.jobs.waiting.check_job_ids`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sysjobs.jobs.ids import check_job_id
from sysjobs.jobs.in_job import MAX_CALLBACK_CHARS, MAX_ITEMS, check_items_bytes, check_queue
from sysjobs.jobs.status import check_statuses
from sysjobs.jobs.values import INT64_MAX, check_json, check_no_nul, check_text
from sysjobs.jobs.waiting import check_job_ids


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(_Args):
    pass


class FindByIdArgs(_Args):
    id: str

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, v: object) -> str:
        return check_job_id(v, "id")


class JobIdArgs(_Args):
    jobId: str

    @field_validator("jobId", mode="before")
    @classmethod
    def _id(cls, v: object) -> str:
        return check_job_id(v, "jobId")


class FindArgs(_Args):
    #: The spec's query map; the engine validates its keys and values.
    query: dict[str, Any]


class LogsArgs(JobIdArgs):
    query: dict[str, Any]


class JobLogsArgs(LogsArgs):
    """``Job.logs(query)``: the query may be omitted."""

    query: dict[str, Any] = Field(default_factory=dict)


class _Message(_Args):
    level: Literal["INFO", "ERROR"]
    message: str

    @field_validator("message", mode="before")
    @classmethod
    def _message(cls, v: object) -> object:
        return check_text(v, "message") if isinstance(v, str) else v


class JobLogArgs(_Message, JobIdArgs):
    pass


class LogArgs(_Message):
    """``logInfo([jobId,] message)``: no jobId means the current job."""

    jobId: str | None = None

    @field_validator("jobId", mode="before")
    @classmethod
    def _id(cls, v: object) -> str | None:
        return None if v is None else check_job_id(v, "jobId")


class WaitArgs(JobIdArgs):
    desiredStatus: tuple[str, ...]
    maxTimeToWait: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]

    @field_validator("desiredStatus", mode="before")
    @classmethod
    def _statuses(cls, v: Any) -> tuple[str, ...]:
        return check_statuses(v)


class WaitManyArgs(_Args):
    """``waitForJobs(jobIds, desiredStatus, maxTimeToWait)``."""

    jobIds: tuple[str, ...]
    desiredStatus: tuple[str, ...]
    maxTimeToWait: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]

    @field_validator("jobIds", mode="before")
    @classmethod
    def _ids(cls, v: Any) -> tuple[str, ...]:
        return check_job_ids(v)

    @field_validator("desiredStatus", mode="before")
    @classmethod
    def _statuses(cls, v: Any) -> tuple[str, ...]:
        return check_statuses(v)


class ExecuteInJobArgs(_Args):
    """``executeInJob(items, queue, callback, step)``: ``items`` an array of JSON values
    (at most ``MAX_ITEMS``), ``queue`` ``'default'`` or a queue's name, ``callback`` the
    function's source (the prelude refuses what is not a plain function), ``step`` a
    positive integer or absent."""

    items: list[Any] = Field(max_length=MAX_ITEMS)
    queue: str
    callback: str = Field(min_length=1, max_length=MAX_CALLBACK_CHARS)
    step: Annotated[int, Field(strict=True, ge=1, le=INT64_MAX)] | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, v: object) -> object:
        return check_no_nul(check_json(check_items_bytes(v) if isinstance(v, list) else v,
                                       "items"), "items")  # fmt: skip

    @field_validator("queue", mode="before")
    @classmethod
    def _queue(cls, v: object) -> str:
        return check_queue(v)

    @field_validator("callback", mode="before")
    @classmethod
    def _callback(cls, v: object) -> object:
        return check_no_nul(check_text(v, "callback"), "callback") if isinstance(v, str) else v
