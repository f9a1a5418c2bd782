"""The V8 sandbox: hardened contexts, the synchronous ``sys`` bridge, limits. Knows no jobs."""

from sysjobs.runtime.governor import Governance
from sysjobs.runtime.namespace import CallContext, Namespace, Operation
from sysjobs.runtime.result import Limits, Outcome, RunResult, ScriptError
from sysjobs.runtime.sandbox import Sandbox
from sysjobs.runtime.session import Session

__all__ = [
    "CallContext",
    "Governance",
    "Limits",
    "Namespace",
    "Operation",
    "Outcome",
    "RunResult",
    "Sandbox",
    "ScriptError",
    "Session",
]
