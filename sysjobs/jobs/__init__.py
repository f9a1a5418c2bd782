"""sysjobs.jobs — the durable job engine service (no JavaScript, no SQL above the store).

The public names load on first use (PEP 562): importing one module of the package — the
value objects (``sysjobs.jobs.models``), the query maps (``sysjobs.jobs.queries``) — does
not build the engine, its stores and SQLAlchemy. The read commands of the CLI
(``sysjobs jobs ls``/``show``) use those modules without the engine
(``docs/cli-read-path.md``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sysjobs.jobs.clock import Clock, SystemClock
    from sysjobs.jobs.context import Flag, JobContext, LeaseLost, RunState
    from sysjobs.jobs.cursor import Cursor
    from sysjobs.jobs.engine import Engine
    from sysjobs.jobs.hooks import EngineHooks
    from sysjobs.jobs.ids import is_job_id, new_job_id
    from sysjobs.jobs.leases import Claimed, ClaimSpec, FinishRequest, Lease, Outcome, new_owner
    from sysjobs.jobs.models import AppLog, Job, JobEvent, JobLog
    from sysjobs.jobs.registry import PUBLIC_JOB_TYPES, QUEUES, JobType, Registry
    from sysjobs.jobs.scripts import ScriptOutcome, ScriptRunner, TerminableScriptRunner
    from sysjobs.jobs.settings import EngineSettings
    from sysjobs.jobs.status import JobStatus

#: Each public name and the module that defines it.
_HOME = {
    "Clock": "clock", "SystemClock": "clock",
    "Flag": "context", "JobContext": "context", "LeaseLost": "context", "RunState": "context",
    "Cursor": "cursor", "Engine": "engine", "EngineHooks": "hooks",
    "is_job_id": "ids", "new_job_id": "ids",
    "Claimed": "leases", "ClaimSpec": "leases", "FinishRequest": "leases", "Lease": "leases",
    "Outcome": "leases", "new_owner": "leases",
    "AppLog": "models", "Job": "models", "JobEvent": "models", "JobLog": "models",
    "PUBLIC_JOB_TYPES": "registry", "QUEUES": "registry", "JobType": "registry",
    "Registry": "registry",
    "ScriptOutcome": "scripts", "ScriptRunner": "scripts", "TerminableScriptRunner": "scripts",
    "EngineSettings": "settings", "JobStatus": "status",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    """A public name, imported from its module on first use."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "PUBLIC_JOB_TYPES",
    "QUEUES",
    "AppLog",
    "ClaimSpec",
    "Claimed",
    "Clock",
    "Cursor",
    "Engine",
    "EngineHooks",
    "EngineSettings",
    "FinishRequest",
    "Flag",
    "Job",
    "JobContext",
    "JobEvent",
    "JobLog",
    "JobStatus",
    "JobType",
    "Lease",
    "LeaseLost",
    "Outcome",
    "Registry",
    "RunState",
    "ScriptOutcome",
    "ScriptRunner",
    "SystemClock",
    "TerminableScriptRunner",
    "is_job_id",
    "new_job_id",
    "new_owner",
]
