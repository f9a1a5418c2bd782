"""sysjobs.jobs — the durable job engine service (no JavaScript, no SQL above the store)."""

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
