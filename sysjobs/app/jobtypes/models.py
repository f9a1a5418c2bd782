"""The ``data`` of each public job type: the spec's keys, plus private ``_`` inputs.

Private inputs (aliases starting with ``_``) are what the handler needs but the spec's
``data()`` does not show: the query map, the action's parameters, the file id, a
listener's event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ExecuteActionData(_Data):
    entityName: str | None = None
    actionName: str
    query: dict[str, Any] = Field(default_factory=dict, alias="_query")
    params: dict[str, Any] = Field(default_factory=dict, alias="_params")


class DeleteRecordsData(_Data):
    entityName: str
    query: dict[str, Any] = Field(default_factory=dict, alias="_query")


class ImportRecordsData(_Data):
    fileName: str
    entityName: str
    file_id: str = Field(alias="_fileId")


class ExportRecordsData(_Data):
    entityName: str
    query: dict[str, Any] = Field(default_factory=dict, alias="_query")


class ExecuteListenerData(_Data):
    listenerName: str
    event: dict[str, Any] | None = Field(default=None, alias="_event")
    record: dict[str, Any] | None = Field(default=None, alias="_record")
    old_record: dict[str, Any] | None = Field(default=None, alias="_oldRecord")
    #: The schedule and tick that started the job, if a schedule did (docs/schedules.md).
    schedule: dict[str, Any] | None = Field(default=None, alias="_schedule")


class ImportUsersData(_Data):
    fileName: str
    notifyUsers: bool = False
    file_id: str = Field(alias="_fileId")


class NoData(_Data):
    """EXPORT_USERS and STOP_APP take no parameters."""


class StartAppData(_Data):
    pushChanges: bool = False
    wakingUp: bool = False


class EndpointData(_Data):
    endpointName: str


class ExecuteInJobData(_Data):
    """EXECUTE_IN_JOB (``sys.jobs.executeInJob``): the items and the callback's source are
    private; ``data()`` shows how many items, the step and the queue asked for."""

    itemsCount: int
    step: int | None = None
    queue: str
    items: list[Any] = Field(alias="_items")
    callback: str = Field(alias="_callback")
    #: A part (a child job of the owner): the index of its first item among the call's.
    first: int = Field(default=0, alias="_first")
    #: Whether this job is a part: it runs its items in turn and never splits them further.
    part: bool = Field(default=False, alias="_part")


# ---- results: the exact shapes of the spec's results() (the engine validates them) ----


class RecordResults(_Data):
    """EXECUTE_ACTION / DELETE_RECORDS: ``{"results": {id: {status, …}}}`` (one-record), or
    ``{"results": {status, response}}`` for a many-records or global action."""

    results: dict[str, Any]


class ImportRecordsResults(_Data):
    rowsImported: int
    rowsWithErrors: int


class ExportRecordsResults(_Data):
    fileLink: str
    fileId: str
    recordsExported: int


class ImportUsersResults(_Data):
    usersImported: int
    usersWithErrors: int


class ExportUsersResults(_Data):
    fileLink: str
    fileId: str
    usersExported: int


class ExecuteInJobResults(_Data):
    """EXECUTE_IN_JOB: how many items ran, and how many of them threw."""

    itemsCount: int
    itemsProcessed: int
    itemsFailed: int
    #: Script runs the items took (``ceil(items / step)`` when nothing was run twice).
    chunks: int
