"""sysjobs: platform JavaScript in an embedded V8 sandbox, with a durable job engine.

The public surface is small on purpose (and locked by ``tests/unit/test_exported_members``):
``Host`` to embed everything, ``Sandbox``/``Namespace``/``Operation`` to run scripts and add
``sys.*`` namespaces, ``JobType`` to add job types, and the error hierarchy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sysjobs.errors import BadRequest, NotFound, SysError, Timeout

__version__ = "0.1.0"

__all__ = [
    "BadRequest",
    "Host",
    "JobType",
    "Limits",
    "Namespace",
    "NotFound",
    "Operation",
    "RunResult",
    "Sandbox",
    "SysError",
    "Timeout",
]

if TYPE_CHECKING:
    from sysjobs.host import Host
    from sysjobs.jobs import JobType
    from sysjobs.runtime import Limits, Namespace, Operation, RunResult, Sandbox

_LAZY = {
    "Host": "sysjobs.host",
    "JobType": "sysjobs.jobs",
    "Limits": "sysjobs.runtime",
    "Namespace": "sysjobs.runtime",
    "Operation": "sysjobs.runtime",
    "RunResult": "sysjobs.runtime",
    "Sandbox": "sysjobs.runtime",
}


def __getattr__(name: str) -> Any:
    # Lazy, so that `import sysjobs.errors` from any layer does not pull in the sandbox
    # or the database.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sysjobs' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
