"""After a claim: which of its jobs may run now, and giving back those that may not.

A pool reads which types it may claim (its apps' holds: the app's status, cached while it
does not change) before the claim runs. A claimer paused between that read and its claim,
or one that has not yet heard another process stop the app, may lease a job of an app
stopped in between — seen on PostgreSQL under load. So once a claim returned, its jobs are
checked against the holds asked afresh (``Registry.held_now``: one read per app per claim,
none when no hold may name the claimed types), and a job now held is given back — to
waiting, exactly as before the claim (``Leases.give_back``) — instead of run.

A give-back that cannot be written (the database is away) leaves the lease held by a pool
that does not run the job, and no heartbeat renews it: it is kept here, the dispatcher is
woken to try again, and the pool tries once more on its way out. Only if all of that fails
does the reaper take the lease back when it expires.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from sysjobs.jobs import Claimed, Lease
from sysjobs.jobs.registry import Registry

log = logging.getLogger(__name__)


class GivesBack(Protocol):
    """What the check needs of the engine's lease verbs (``Leases.give_back``)."""

    def give_back(self, leases: Sequence[Lease]) -> list[str]: ...


class ClaimCheck:
    """Checks a pool's claims against its served apps' holds, asked afresh; gives back the
    jobs held now."""

    def __init__(
        self, leases: GivesBack, registries: Mapping[str, Registry], wake: Callable[[], None]
    ) -> None:
        #: The lease verbs that give jobs back (the pool's engine's).
        self.leases = leases
        #: Each served app's registry, by app key: its holds.
        self.registries = dict(registries)
        self._wake = wake
        self._lock = threading.Lock()
        self._pending: list[Lease] = []  # leases a failed give-back left held

    def runnable(self, claimed: list[Claimed]) -> list[Claimed]:
        """``claimed`` less the jobs their app holds now; those are given back. Never
        raises: when the holds cannot be read, every job is given back (none is known to
        be runnable); when the give-back cannot be written, it is retried (:meth:`retry`)."""
        if not claimed:
            return claimed
        types: dict[str, set[str]] = {}
        for item in claimed:
            types.setdefault(item.job.app, set()).add(item.job.type)
        try:
            held = {app: self.registries[app].held_now(names) for app, names in types.items()}
        except Exception:
            log.exception("sysjobs: could not read which job types are held; giving back")
            held = None
        back = [c for c in claimed if held is None or c.job.type in held[c.job.app]]
        if back:
            self._give_back([c.lease for c in back])
        return [c for c in claimed if held is not None and c.job.type not in held[c.job.app]]

    def retry(self) -> None:
        """Give back what an earlier give-back could not (raises while it still cannot:
        the dispatcher then pauses, as after a failed claim)."""
        with self._lock:
            leases, self._pending = self._pending, []
        if not leases:
            return
        try:
            self.leases.give_back(leases)
        except Exception:
            with self._lock:
                self._pending = leases + self._pending
            raise

    def _give_back(self, leases: list[Lease]) -> None:
        try:
            self.leases.give_back(leases)
        except Exception:
            log.exception("sysjobs: giving back %d claimed job(s) failed; retrying", len(leases))
            with self._lock:
                self._pending += leases
            self._wake()
