"""The seam through which a job runs JavaScript without the engine knowing V8.

``sysjobs.worker.scripts`` implements :class:`ScriptRunner` with the runtime and bindings,
inside a worker process; job handlers receive it on their :class:`~sysjobs.jobs.JobContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ScriptOutcome:
    """How one script run ended."""

    #: True when the script completed without a thrown error or limit.
    ok: bool
    #: The script's JSON result when ``ok``.
    value: Any = None
    #: The platform error code when not ``ok`` (``timeout``, ``badRequest``, ``crashed`` …).
    error_code: str | None = None
    error_message: str | None = None


@runtime_checkable
class ScriptRunner(Protocol):
    """Runs a script in a sandbox on behalf of a job."""

    def run(
        self, source: str, *, job_id: str | None, globals: dict[str, Any], timeout_s: float,
        name: str | None = None,
    ) -> ScriptOutcome:
        """Run ``source`` with ``globals`` for the job ``job_id`` within ``timeout_s``;
        ``name`` (an app's script file) names it in stack frames."""
        ...


@runtime_checkable
class TerminableScriptRunner(ScriptRunner, Protocol):
    """A runner that can cut a job's running script short (forced stop/cancel)."""

    def terminate(self, job_id: str) -> None:
        """Terminate the V8 execution of ``job_id``'s script, if one is running."""
        ...


@runtime_checkable
class SessionScriptRunner(ScriptRunner, Protocol):
    """A runner that can keep one sandbox context for a job's many runs.

    An action over thousands of records runs the same script once per record; a fresh
    context per run costs milliseconds, a session's next run ~0.5 ms. Runs of a session
    share globals, so handlers open one only around one script's runs for one job.
    """

    def session(self, job_id: str) -> AbstractContextManager[object]:
        """While open, this runner's runs for ``job_id`` share one context."""
        ...


#: Receives one item's outcome in :meth:`EachScriptRunner.run_each` (its index among the
#: items); False stops the items there.
ItemOutcome = Callable[[int, ScriptOutcome], bool]


@runtime_checkable
class EachScriptRunner(ScriptRunner, Protocol):
    """A runner that runs one script once per item in few sandbox calls (an action over a
    chunk of records): each item a run of its own — its time limit, budget and errors —
    without a sandbox round trip per item."""

    def run_each(
        self, source: str, items: Sequence[dict[str, Any]], on_item: ItemOutcome, *,
        job_id: str, globals: dict[str, Any], timeout_s: float, name: str | None = None,
    ) -> ScriptOutcome:
        """Run ``source`` per item (the item's globals over ``globals``), handing each
        item's outcome to ``on_item`` before the next item starts. Returns the outcome of
        what the items left running after their last one (a ``then``): ok, or the limit
        it hit."""
        ...
