"""The V8 sandbox: hardened contexts, the synchronous ``sys`` bridge, limits. Knows no jobs.

The names below are loaded on first use, so that a process which only needs
``sysjobs.runtime.result`` or ``…process`` (the parent of a script's child process) does not
load V8 and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "CallContext": "namespace",
    "Governance": "governor",
    "Limits": "result",
    "Namespace": "namespace",
    "Operation": "namespace",
    "Outcome": "result",
    "RunResult": "result",
    "Sandbox": "sandbox",
    "ScriptError": "result",
    "Session": "session",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sysjobs.runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sysjobs.runtime.{home}"), name)
