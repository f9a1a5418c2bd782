"""What the child process of ``sysjobs run`` builds: a sandbox whose ``sys.jobs`` and
``sys.data`` open the database on their first call, and which tells the parent when the
script enqueues a job.

Most scripts a person types at ``sysjobs run`` log a line or compute a value. Opening the
host (SQLAlchemy, the migrations check, the app's tables) costs about three times what the
rest of the child costs, so the child loads only the app's definition (its manifest sets
the run's limits) and the core namespaces; the first ``sys.jobs.*`` or ``sys.data.*`` call
opens the host and is then served by its real operation, validated by its real model —
the script cannot tell the difference, except that a database that cannot be opened is
the error of that call. The parent starts its worker process only once the child says the
script enqueued a job (:data:`JOB_ENQUEUED`).

Only the child imports this module (by name, through a
:class:`~sysjobs.runtime.process.SandboxFactory`); the host is imported when it is opened.
It lives beside :mod:`sysjobs.host`, not in ``sysjobs.cli``, so that the child does not
import the command line either.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from sysjobs.app.definition import AppDefinition, load_app, load_demo_app
from sysjobs.bindings import core_namespaces
from sysjobs.errors import BadRequest, SysError, SystemException
from sysjobs.runtime import dispatch
from sysjobs.runtime.namespace import CallContext, Namespace, Operation
from sysjobs.runtime.result import Limits
from sysjobs.runtime.sandbox import Sandbox

if TYPE_CHECKING:
    from sysjobs.host import Host
    from sysjobs.jobs import Job

#: The event the child sends when the script enqueued a job (once per child).
JOB_ENQUEUED = "jobEnqueued"

#: The operations of ``sys.jobs``, ``sys.data`` and ``sys.logs`` (a unit test keeps these
#: equal to the namespaces a host builds: the bindings import the engine, which is what is
#: deferred).
DEFERRED_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "jobs": ("findById", "get", "tree", "find", "logs", "jobLogs", "log", "jobLog", "waitForJob",
             "waitForJobs", "executeInJob", "setLowPriority", "removeLowPriority",
             "getCurrentJobId", "getCurrentJob"),
    "data": ("find", "findOne", "findById", "count", "createRecord", "save", "remove",
             "executeAction", "delete", "importRecords", "endpointStatus"),
    "logs": ("write",),
}  # fmt: skip
#: The deferred operations that let the run's pending writes wait (``Operation.defers`` of
#: the real ones: a test keeps the two the same), so ``sysjobs run`` group-commits too.
DEFERRING_OPERATIONS = frozenset({"data.createRecord", "data.save"})


class AnyArgs(BaseModel):
    """Whatever a deferred call was given: the real operation's model validates it."""

    model_config = ConfigDict(extra="allow")


class OpenOnUse:
    """The host of ``db_url``/``app_dir``, opened by the first deferred call (at most once,
    whatever thread asks), with the parent's event hook on its engine."""

    def __init__(self, db_url: str | None, app_dir: str | None, limits: Limits,
                 events: Callable[[str], None] | None) -> None:  # fmt: skip
        self.db_url, self.app_dir, self.limits, self.events = db_url, app_dir, limits, events
        self._lock = threading.Lock()
        self._table: dict[str, Operation[Any]] | None = None
        self._host: Host | None = None

    def operation(self, full_name: str) -> Operation[Any]:
        """The real operation ``"jobs.findById"`` …, opening the host on first use."""
        with self._lock:
            if self._table is None:
                self._host = host = self._open()
                if self.events is not None:
                    host.engine.hooks.append(_enqueue_signal(self.events))
                self._table = dispatch.operation_table(host.sandbox.namespaces)
            return self._table[full_name]

    def close(self) -> None:
        """Close the host if a call opened it."""
        with self._lock:
            host, self._host = self._host, None
        if host is not None:
            host.close()

    def _open(self) -> Host:
        from sysjobs.host import Host

        try:
            return Host(self.db_url, self.app_dir, limits=self.limits, pool_size=1)
        except SysError:
            raise
        except (ValueError, OSError) as exc:
            raise BadRequest(f"cannot open the database or app: {_first(exc)}") from None
        except Exception as exc:  # e.g. the database server refuses the connection
            where = self.db_url or "the default database"
            raise SystemException(f"cannot open {where}: {_first(exc)}") from None

    def deferred(self, namespace: str, name: str) -> Operation[AnyArgs]:
        """``namespace.name`` as an operation that opens the host and calls the real one."""
        full_name = f"{namespace}.{name}"

        def call(ctx: CallContext, args: AnyArgs) -> Any:
            real = self.operation(full_name)
            return real.handler(ctx, dispatch.validate(real, args.model_extra))

        return Operation(name, AnyArgs, call, defers=full_name in DEFERRING_OPERATIONS)

    def namespace(self, name: str) -> Namespace:
        """``sys.<name>`` with its real prelude and deferred operations."""
        prelude = resources.files("sysjobs.bindings").joinpath(f"{name}.js").read_text("utf-8")
        ops = tuple(self.deferred(name, op) for op in DEFERRED_OPERATIONS[name])
        return Namespace(name=name, prelude=prelude, operations=ops)


class ScriptSandbox(Sandbox):
    """A :class:`Sandbox` that also closes the host its first call opened."""

    def __init__(self, namespaces: list[Namespace], limits: Limits, opener: OpenOnUse) -> None:
        super().__init__(namespaces, limits, pool_size=1)
        self.opener = opener

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.opener.close()


def _enqueue_signal(send: Callable[[str], None]) -> Any:
    """An engine hook that says :data:`JOB_ENQUEUED` once (the parent needs it once)."""
    from sysjobs.jobs.hooks import EngineHooks

    class EnqueueSignal(EngineHooks):
        def __init__(self) -> None:
            self.pending: Callable[[str], None] | None = send

        def job_enqueued(self, job: Job) -> None:
            fire = self.pending
            if fire is not None:
                self.pending = None
                fire(JOB_ENQUEUED)

    return EnqueueSignal()


def script_sandbox(
    db_url: str | None = None,
    app_dir: str | None = None,
    timeout_s: float | None = None,
    events: Callable[[str], None] | None = None,
) -> Sandbox:
    """The sandbox ``Host(db_url, app_dir)`` would build, with the host opened on the first
    ``sys.jobs``/``sys.data`` call; ``events(JOB_ENQUEUED)`` on the first job enqueued.

    An app that cannot be loaded fails here, before the script runs (as a host would)."""
    definition = load_app(app_dir) if app_dir is not None else load_demo_app()
    limits = app_limits(Limits(timeout_s=timeout_s) if timeout_s is not None else Limits(),
                        definition)  # fmt: skip
    opener = OpenOnUse(db_url, str(Path(app_dir).resolve()) if app_dir else None, limits, events)
    namespaces = [*core_namespaces(), opener.namespace("jobs"), opener.namespace("data"),
                  opener.namespace("logs")]
    return ScriptSandbox(namespaces, limits, opener)


def app_limits(limits: Limits, definition: AppDefinition) -> Limits:
    """``limits`` lowered where the app's manifest is stricter (as ``sysjobs.host.governed``
    does for a host without its own governance)."""
    return replace(limits, governance=limits.governance.stricter(**definition.governance_limits()))


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
