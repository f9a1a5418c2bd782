"""The sidecar format (``sysjobs/samples/*.expected.yaml``), validated before anything runs.

Why a schema: a misspelt key (``expcet:``, ``jobs_crated:``) would otherwise be ignored and
the run would pass while checking nothing. Unknown keys are errors.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PerLog(_Strict):
    query: dict[str, Any]
    min_logs: int = 0
    lines: list[str]


class PerJob(_Strict):
    find: dict[str, Any]
    min_jobs: int = 1
    lines: list[str]
    per_log: PerLog | None = None


class JobFields(_Strict):
    type: str | None = None
    status: str | None = None
    low_priority: bool | None = None
    has_errors: bool | None = None
    label: str | None = None
    data: dict[str, Any] | None = None


class LogEntry(_Strict):
    level: Literal["INFO", "ERROR"]
    message: str


class NewestJobs(_Strict):
    count: int = Field(ge=1)
    each_has_log: LogEntry | None = None
    has_errors: bool | None = None


class Expect(_Strict):
    outcome: Literal["ok", "error"] = "ok"
    error_code: str | None = None
    error_name: str | None = None
    error_message: str | None = None
    log: list[str] | None = None
    log_per_job: PerJob | None = None
    jobs_created: list[JobFields] | None = None
    newest_jobs: NewestJobs | None = None
    #: One regex per line the run's jobs wrote to the app's own log (``sys.logs``), in
    #: order, as ``LEVEL message``; the runner waits for the jobs to settle first.
    app_logs: list[str] | None = None


class Given(_Strict):
    script: str


class RunSpec(_Strict):
    name: str
    in_job: bool = False
    workers: bool = True
    timeout_s: float = Field(default=30.0, gt=0)
    given: Given | None = None
    expect: Expect


class Sidecar(_Strict):
    function: str
    fragment: bool = False
    runs: list[RunSpec] = Field(min_length=1)


def validate_sidecar(raw: Any) -> dict[str, Any]:
    """``raw`` checked against :class:`Sidecar`; returned as given (keys as written)."""
    Sidecar.model_validate(raw)
    return dict(raw)
