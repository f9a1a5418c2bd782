"""sysjobs: platform JavaScript in an embedded V8 sandbox, with a durable job engine.

The public surface is small on purpose (and locked by ``tests/unit/test_exported_members``):
``Host`` to embed everything (tuned by ``Limits``, ``Governance`` and ``EngineSettings``),
``Sandbox``/``Namespace``/``Operation`` to run scripts and add ``sys.*`` namespaces (an
operation's handler gets a ``CallContext``), what a run gives back (``RunResult`` with its
``Outcome`` and ``ScriptError``), ``JobType`` to add job types (a handler gets a
``JobContext``), ``Job`` as the engine returns it, and the error hierarchy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sysjobs.errors import BadRequest, NotFound, SysError, Timeout

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "CallContext",
    "EngineSettings",
    "Governance",
    "Host",
    "Job",
    "JobContext",
    "JobType",
    "Limits",
    "Namespace",
    "NotFound",
    "Operation",
    "Outcome",
    "RunResult",
    "Sandbox",
    "ScriptError",
    "SysError",
    "Timeout",
]

if TYPE_CHECKING:
    from sysjobs.host import Host
    from sysjobs.jobs import EngineSettings, Job, JobContext, JobType
    from sysjobs.runtime import (
        CallContext,
        Governance,
        Limits,
        Namespace,
        Operation,
        Outcome,
        RunResult,
        Sandbox,
        ScriptError,
    )

_LAZY = {
    "CallContext": "sysjobs.runtime",
    "EngineSettings": "sysjobs.jobs",
    "Governance": "sysjobs.runtime",
    "Host": "sysjobs.host",
    "Job": "sysjobs.jobs",
    "JobContext": "sysjobs.jobs",
    "JobType": "sysjobs.jobs",
    "Limits": "sysjobs.runtime",
    "Namespace": "sysjobs.runtime",
    "Operation": "sysjobs.runtime",
    "Outcome": "sysjobs.runtime",
    "RunResult": "sysjobs.runtime",
    "Sandbox": "sysjobs.runtime",
    "ScriptError": "sysjobs.runtime",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that `import sysjobs.errors` from any layer does not pull in the sandbox
    # or the database.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sysjobs' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
