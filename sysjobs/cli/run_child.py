"""What the child process of ``sysjobs run`` builds: the sandbox of a full host, which tells
the parent when the script enqueues a job.

The parent (``sysjobs run``) starts this child first and its worker process only on that
event: a script that starts no job never pays for a worker process (a second Python with
the whole engine, the app and V8 loaded — more than the script's own child costs). Only
the child imports this module (by its name, through a
:class:`~sysjobs.runtime.process.SandboxFactory`).
"""

from __future__ import annotations

from collections.abc import Callable

from sysjobs.errors import BadRequest, SysError, SystemException
from sysjobs.host import Host
from sysjobs.jobs import Job
from sysjobs.jobs.hooks import EngineHooks
from sysjobs.runtime import Limits, Sandbox

#: The event the child sends when the script enqueued a job (once per run of the child).
JOB_ENQUEUED = "jobEnqueued"


class EnqueueSignal(EngineHooks):
    """Says :data:`JOB_ENQUEUED` once: the parent needs to hear it only once."""

    def __init__(self, send: Callable[[str], None]) -> None:
        self._send: Callable[[str], None] | None = send

    def job_enqueued(self, job: Job) -> None:
        if self._send is not None:
            send, self._send = self._send, None
            send(JOB_ENQUEUED)


def script_sandbox(
    db_url: str | None = None,
    app_dir: str | None = None,
    timeout_s: float | None = None,
    events: Callable[[str], None] | None = None,
) -> Sandbox:
    """The sandbox of ``Host(db_url, app_dir)``; ``events(JOB_ENQUEUED)`` on the first job
    its scripts enqueue. A database or app that cannot be opened is one platform error."""
    limits = Limits(timeout_s=timeout_s) if timeout_s is not None else None
    try:
        host = Host(db_url, app_dir, limits=limits, pool_size=1)
    except SysError:
        raise
    except (ValueError, OSError) as exc:
        raise BadRequest(f"cannot open the database or app: {_first(exc)}") from None
    except Exception as exc:  # e.g. the database server refuses the connection
        where = db_url or "the default database"
        raise SystemException(f"cannot open {where}: {_first(exc)}") from None
    if events is not None:
        host.engine.hooks.append(EnqueueSignal(events))
    return host.sandbox


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
