"""Sandbox factories for the ProcessSandbox tests (imported by name in the child)."""

from __future__ import annotations

import gc
from collections.abc import Callable

from sysjobs.errors import BadRequest
from sysjobs.host import core_sandbox
from sysjobs.runtime import Sandbox


def refuses() -> Sandbox:
    raise BadRequest("Invalid value 'x' for parameter 'db_url'.")


def breaks() -> Sandbox:
    raise RuntimeError("a bug: /internal/path.py line 3")


def announces(events: Callable[[str], None]) -> Sandbox:
    events("built")
    return core_sandbox(pool_size=0)


def announces_gc(events: Callable[[str], None]) -> Sandbox:
    """Says whether the child collects garbage and froze its imports, as it builds."""
    events(f"collecting={gc.isenabled()} frozen={gc.get_freeze_count() > 0}")
    return core_sandbox(pool_size=0)
