"""How a ``sys.*`` namespace plugs into the sandbox: a JS prelude plus Python operations.

A binding module (``sysjobs.bindings.jobs``, ``…data`` …) builds a :class:`Namespace`:

* ``prelude`` — JS source of one function expression ``(function (host) { … return ns; })``.
  It runs during bootstrap, *before* any user code, so the intrinsics it captures are the
  real ones. It returns the object scripts see as ``sys.<name>``; the bootstrap freezes it.
  ``host`` gives the prelude what it needs and nothing more:

  - ``host.call(op, args)`` — synchronous call of *this namespace's* Python operation
    ``op`` (``host.call("findById", {id})`` in the jobs prelude reaches ``jobs.findById``;
    the full name ``"jobs.findById"`` is accepted too)
    with one JSON-serialisable argument object; returns the decoded JSON reply or throws a
    branded platform error.
  - ``host.error(code, message, info)`` — a branded platform ``Error``.
  - ``host.codeOf(e)`` / ``host.messageOf(e)`` / ``host.infoOf(e)`` — brand look-ups.
  - ``host.date(ms)`` — a ``Date`` or ``null``; ``host.freeze(o)``; ``host.stringify(v)``,
    ``host.parse(s)`` (the real JSON functions, captured before user code).
  - ``host.adaptGlobal(name, fn)`` — when a run is given ``globals={name: json}``, the
    script sees ``fn(json)`` (e.g. ``record`` as a ``Record`` object).
  - ``host.ns(name)`` — another namespace's object (namespaces are built in registry order).

* ``operations`` — each validates its argument object with a pydantic model (unknown keys,
  wrong types → ``badRequest`` naming the parameter) and returns a JSON-serialisable value.

The runtime knows nothing about jobs: services reach an operation through the closure its
binding module builds, and per-run facts (deadline, current job, log sink, the run's
governance budget) through :class:`CallContext`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from sysjobs.runtime.governor import Governor

A = TypeVar("A", bound=BaseModel)


@dataclass
class CallContext:
    """What an operation knows about the run that called it (one per script run)."""

    #: ``time.monotonic()`` value after which the script is out of time.
    deadline: float
    #: The job the script runs in, or None.
    job_id: str | None = None
    #: The user the script runs as: ``{"id": …, "name": …}`` or None.
    user: dict[str, Any] | None = None
    #: Receives each ``log()`` line; set by the sandbox for the run.
    log_sink: Callable[[str], None] | None = None
    #: Writes ``(level, message)`` to the current job's log, fenced by the job's lease when
    #: the run belongs to a worker's job (a worker that lost the lease writes nothing).
    job_log: Callable[[str, str], None] | None = None
    #: Free slots for bindings (e.g. the current job's fencing token, open cursors).
    extras: dict[str, Any] = field(default_factory=dict)
    #: Called once when the run ends, whatever its outcome (e.g. close DB cursors).
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    #: The run's governance budgets (jobs started, log bytes, host calls); see
    #: :mod:`sysjobs.runtime.governor`.
    governor: Governor = field(default_factory=Governor)
    #: Writes a binding left pending in this run (a group commit): :meth:`flush` runs
    #: them before any call of an operation that does not ``defer`` and when the run ends.
    flushes: list[Callable[[], None]] = field(default_factory=list)

    def flush(self) -> None:
        """Write what is pending, oldest first; the first failure is raised (what was
        pending is dropped either way: it is not written twice)."""
        flushes, self.flushes = self.flushes, []
        for flush in flushes:
            flush()

    def charge(self, budget: str, amount: int = 1) -> None:
        """Count ``amount`` of ``budget`` for this run, or raise ``LimitExceeded``."""
        self.governor.charge(budget, amount)

    def close(self) -> None:
        """Run the cleanups, newest first; one failing does not skip the others."""
        while self.cleanups:
            try:
                self.cleanups.pop()()
            except Exception:
                logging.getLogger("sysjobs.runtime").exception("cleanup failed")

    def remaining(self) -> float:
        """Seconds left before the script's deadline (never negative)."""
        return max(0.0, self.deadline - time.monotonic())


@dataclass(frozen=True)
class Operation(Generic[A]):
    """One Python operation reachable from JS as ``host.call(name, args)``."""

    name: str
    args: type[A]
    handler: Callable[[CallContext, A], Any]
    #: Whether the run's pending writes (:attr:`CallContext.flushes`) may stay pending
    #: across this call; every other operation writes them first (read your writes).
    defers: bool = False
    #: A quick validator for the common shape of the arguments: the model, or None to let
    #: ``args``' full validation decide (and word any refusal). It may accept only what
    #: the full validation accepts, as the full validation would read it.
    quick_args: Callable[[Any], A | None] | None = None


@dataclass(frozen=True)
class Namespace:
    """A ``sys.<name>`` namespace: its JS prelude and its Python operations."""

    name: str
    prelude: str
    operations: tuple[Operation[Any], ...] = ()
    #: Install the prelude's result as a global too (``log`` is ``globalThis.log``).
    global_name: str | None = None
