"""The app manifest: what an app declares, validated once where it enters (pydantic).

An app is a folder with ``app.yaml`` (or ``app.json``) and the JavaScript files it names.
Entities, actions, listeners and endpoints are mappings keyed by name, so a validation
error's location reads as the path of the bad key, e.g.
``entities.companies.fields.type.choices``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from sysjobs.app.schedule_defs import ScheduleDef, check_schedule_names, check_schedule_targets
from sysjobs.errors import SysError

if TYPE_CHECKING:
    from sysjobs.jobs.queues import QueueDef

#: The public job types, as the spec lists them; job listeners may only name these.
PUBLIC_JOB_TYPES = (
    "IMPORT_RECORDS", "EXPORT_RECORDS", "EXECUTE_ACTION", "DELETE_RECORDS", "EXECUTE_LISTENER",
    "IMPORT_USERS", "EXPORT_USERS", "STOP_APP", "START_APP", "DEPLOY_ENDPOINT",
    "UNDEPLOY_ENDPOINT",
)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: The built-in queues and the largest concurrency, as ``sysjobs.jobs.queues`` has them
#: (spelled here so that reading a manifest loads no engine — a script process reads one
#: without a database; a unit test keeps them equal).
BUILTIN_QUEUES = ("mix", "light", "heavy", "system")
MAX_CONCURRENCY = 100_000


class _Model(BaseModel):
    """Manifest keys are camelCase; unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
    )


class FieldType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"  #: ISO ``YYYY-MM-DD``; ISO strings order like dates.
    CHOICE = "choice"
    RELATIONSHIP = "relationship"  #: the id of a record of ``entity``
    FILE = "file"  #: the id of a file in the files store


class FieldDef(_Model):
    type: FieldType
    label: str | None = None
    required: bool = False
    #: Allowed values of a ``choice`` field.
    choices: tuple[str, ...] = ()
    #: Target entity of a ``relationship`` field.
    entity: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FieldDef:
        if self.type is FieldType.CHOICE and not self.choices:
            raise ValueError("a choice field needs 'choices'")
        if self.type is FieldType.RELATIONSHIP and not self.entity:
            raise ValueError("a relationship field needs 'entity'")
        return self


class ActionKind(StrEnum):
    ONE_RECORD = "oneRecord"  #: runs once per record, sees ``record`` / ``oldRecord``
    MANY_RECORDS = "manyRecords"  #: runs once for the whole query, sees ``query``
    GLOBAL = "global"  #: belongs to no entity


class ParameterDef(_Model):
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()


class ActionDef(_Model):
    kind: ActionKind = ActionKind.ONE_RECORD
    script: str
    parameters: dict[str, ParameterDef] = Field(default_factory=dict)
    #: Put the script's return value into the job's per-record results.
    returns_response: bool = False
    queue: str = "mix"
    label: str | None = None


class EntityDef(_Model):
    #: Field whose value is a record's ``label()``.
    label_field: str | None = None
    fields: dict[str, FieldDef]
    actions: dict[str, ActionDef] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> EntityDef:
        for name in self.fields:
            if not all(_NAME.match(part) for part in name.split(".")):
                raise ValueError(f"invalid field name '{name}'")
        if self.label_field is not None and self.label_field not in self.fields:
            raise ValueError(f"labelField '{self.label_field}' is not a field")
        for name, action in self.actions.items():
            if action.kind is ActionKind.GLOBAL:
                raise ValueError(f"action '{name}' of an entity cannot be global")
        return self


class DataEvent(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    DELETED = "deleted"


class JobEvent(StrEnum):
    CREATED = "created"
    STARTED = "started"
    FINISHED = "finished"
    STOPPED = "stopped"
    RESUMED = "resumed"
    CANCELED = "canceled"


class ListenerDef(_Model):
    type: str = Field(pattern="^(data|job)$")
    script: str
    #: data listeners: the entity and record events they react to.
    entity: str | None = None
    events: tuple[str, ...] = ()
    #: job listeners: the job type whose events they react to.
    job_type: str | None = None
    #: Run as an EXECUTE_LISTENER job instead of inline.
    background: bool = False
    #: The queue of its EXECUTE_LISTENER jobs (default: the type's, ``light``).
    queue: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ListenerDef:
        allowed = [e.value for e in (DataEvent if self.type == "data" else JobEvent)]
        for event in self.events:
            if event not in allowed:
                raise ValueError(f"invalid event '{event}'; allowed: {', '.join(allowed)}")
        if self.type == "data" and not self.entity:
            raise ValueError("a data listener needs 'entity'")
        if self.type == "job" and self.job_type not in PUBLIC_JOB_TYPES:
            raise ValueError(
                f"invalid jobType '{self.job_type}'; allowed: {', '.join(PUBLIC_JOB_TYPES)}"
            )
        return self


class EndpointDef(_Model):
    path: str
    script: str | None = None


class UserDef(_Model):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    first_name: str
    last_name: str


class GovernanceDef(_Model):
    """The app's own governance limits per script run (``governance:`` in the manifest).

    Each key is optional; a value tightens the Host's limit of the same name and never
    loosens it (the stricter of the two applies). The Host's defaults are 1,000 jobs
    started, 10 MiB of log lines and 1,000,000 host calls per run.
    """

    #: Jobs one script run may start (``sys.data.executeAction``, ``delete``, ``importRecords``).
    max_jobs_started: int | None = Field(default=None, ge=0, strict=True)
    #: UTF-8 bytes of log lines one script run may write (``log()``, ``logInfo/logError``).
    max_log_bytes: int | None = Field(default=None, ge=0, strict=True)
    #: Host calls one script run may make (``log()`` and every ``sys.*`` host call).
    max_host_calls: int | None = Field(default=None, ge=0, strict=True)

    def limits(self) -> dict[str, int]:
        """The keys the app sets, by their Python name (``max_jobs_started`` …)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class JobsDef(_Model):
    """The app's own job settings (``jobs:`` in the manifest): how long its ended jobs and
    its log lines are kept, and the caps on each of its jobs. Apps sharing a database and
    a worker fleet each keep their own; a key left out keeps the Host's (or worker's)
    setting."""

    #: Days an ended job of this app is kept (``prune``); 0 prunes every ended job.
    retain_jobs_days: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    #: Days a log line of this app's jobs is kept (``prune``).
    retain_logs_days: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    #: Log lines kept per job.
    max_log_lines: int | None = Field(default=None, ge=1, strict=True)
    #: Characters kept of one log message.
    max_message_chars: int | None = Field(default=None, ge=1, strict=True)
    #: Bytes of JSON kept as a job's results.
    max_result_bytes: int | None = Field(default=None, ge=1, strict=True)
    #: The most of this app's jobs running at once, across every worker on the database
    #: (a fleet shared with other apps; none: no cap).
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_CONCURRENCY, strict=True)

    def retention(self) -> dict[str, float]:
        """The retention keys the app sets, by their ``EngineSettings`` name."""
        kept = {"retain_jobs_days": self.retain_jobs_days,
                "retain_logs_days": self.retain_logs_days}  # fmt: skip
        return {k: v for k, v in kept.items() if v is not None}

    def caps(self) -> dict[str, int]:
        """The cap keys the app sets, by their ``Caps`` name."""
        kept = {"max_log_lines": self.max_log_lines, "max_message_chars": self.max_message_chars,
                "max_result_bytes": self.max_result_bytes}  # fmt: skip
        return {k: v for k, v in kept.items() if v is not None}


class QueueSpec(_Model):
    """One of the app's own queues (``queues:`` in the manifest, keyed by its name)."""

    #: Slots each worker pool keeps for this queue while fewer of its jobs run there.
    min_concurrency: int = Field(default=0, ge=0, le=MAX_CONCURRENCY, strict=True)
    #: The most of the app's jobs of this queue running at once, across every worker.
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_CONCURRENCY, strict=True)
    #: The longest an idle pool serving the queue waits before it looks for its jobs (ms).
    poll_interval_ms: int | None = Field(default=None, ge=10, le=3_600_000, strict=True)

    @model_validator(mode="after")
    def _min_within_max(self) -> QueueSpec:
        if self.max_concurrency is not None and self.min_concurrency > self.max_concurrency:
            raise ValueError(
                f"minConcurrency {self.min_concurrency} is above maxConcurrency "
                f"{self.max_concurrency}"
            )
        return self

    def definition(self, name: str) -> QueueDef:
        """The engine's view of the queue called ``name``."""
        from sysjobs.jobs.queues import QueueDef

        poll = None if self.poll_interval_ms is None else self.poll_interval_ms / 1000
        return QueueDef(name, self.min_concurrency, self.max_concurrency, poll)


class Manifest(_Model):
    name: str
    #: Per-run governance limits of this app's scripts (stricter than the Host's, or none).
    governance: GovernanceDef = Field(default_factory=GovernanceDef)
    #: Retention and caps of this app's jobs (the Host's where left out).
    jobs: JobsDef = Field(default_factory=JobsDef)
    #: The app's own queues, next to the built-in ones (mix, light, heavy, system).
    queues: dict[str, QueueSpec] = Field(default_factory=dict)
    entities: dict[str, EntityDef] = Field(default_factory=dict)
    #: Global actions (kind ``global``).
    actions: dict[str, ActionDef] = Field(default_factory=dict)
    listeners: dict[str, ListenerDef] = Field(default_factory=dict)
    endpoints: dict[str, EndpointDef] = Field(default_factory=dict)
    #: Cron schedules starting a listener or a script (``sysjobs.app.schedule_defs``).
    schedules: dict[str, ScheduleDef] = Field(default_factory=dict)
    users: tuple[UserDef, ...] = ()
    #: Seed records per entity: inline rows.
    seed: dict[str, tuple[dict[str, Any], ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Manifest:
        for ename, entity in self.entities.items():
            for fname, fdef in entity.fields.items():
                if fdef.entity is not None and fdef.entity not in self.entities:
                    raise ValueError(
                        f"entities.{ename}.fields.{fname}.entity: unknown entity '{fdef.entity}'"
                    )
        for lname, listener in self.listeners.items():
            if listener.entity is not None and listener.entity not in self.entities:
                raise ValueError(f"listeners.{lname}.entity: unknown entity '{listener.entity}'")
        for sname in self.seed:
            if sname not in self.entities:
                raise ValueError(f"seed.{sname}: unknown entity '{sname}'")
        for aname, action in self.actions.items():
            if action.kind is not ActionKind.GLOBAL:
                raise ValueError(f"actions.{aname}.kind: a top-level action must be 'global'")
        self._check_queues()
        return self

    @field_validator("schedules", mode="before")
    @classmethod
    def _schedule_names(cls, value: Any) -> Any:
        return check_schedule_names(value)

    @model_validator(mode="after")
    def _schedule_targets(self) -> Manifest:
        check_schedule_targets(self.schedules, set(self.listeners))
        return self

    def _check_queues(self) -> None:
        """Queue names are well formed and not the built-ins'; what names a queue names one
        of the app's."""
        if self.queues:
            from sysjobs.jobs.queues import check_queue_name

            for qname in self.queues:
                try:
                    check_queue_name(qname)
                except SysError as exc:
                    raise ValueError(f"queues: {exc.message}") from None
        known = (*BUILTIN_QUEUES, *self.queues)
        named = [(f"actions.{a}.queue", d.queue) for a, d in self.actions.items()]
        named += [(f"entities.{e}.actions.{a}.queue", d.queue)
                  for e, ent in self.entities.items() for a, d in ent.actions.items()]
        named += [(f"listeners.{n}.queue", d.queue) for n, d in self.listeners.items()
                  if d.queue is not None]  # fmt: skip
        for where, queue in named:
            if queue not in known:
                from sysjobs.jobs.values import shown

                raise ValueError(
                    f"{where}: Invalid value {shown(queue)} for parameter 'queue'. "
                    f"Allowed values: {', '.join(known)}"
                )

    def queue_defs(self) -> tuple[QueueDef, ...]:
        """The app's own queues as the engine knows them."""
        return tuple(spec.definition(name) for name, spec in self.queues.items())

