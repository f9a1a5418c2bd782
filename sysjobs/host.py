"""The public Python API: wires the layers together for embedding, the CLI and workers."""

from __future__ import annotations

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Limits, Sandbox


def core_sandbox(timeout_s: float | None = None, pool_size: int = 1) -> Sandbox:
    """A sandbox with only the core namespaces (no database): ``sysjobs run`` without jobs."""
    limits = Limits(timeout_s=timeout_s) if timeout_s is not None else Limits()
    return Sandbox(core_namespaces(), limits, pool_size=pool_size)
