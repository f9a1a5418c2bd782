"""PostgreSQL's claim and end-and-claim: one call of the server function ``FUNCTION``.

The function (``sql/schema.sql``; created by revision 0020 from ``sql/0020_lease_v8.sql``)
does in the server what ``store/sqlite/leases.py`` does statement by statement on SQLite —
the same fences, status maps, events and hints — as one statement in autocommit: one round
trip for a worker's whole group commit, and plans that do not depend on the table's
statistics. This module only turns the specs into the function's JSON and its answer back
into rows.

The time it sends is read just before the call; no lock orders it against other clients'
writes, so the function clamps every time it stores to the job's own earlier times
(``started = greatest(created, now)``, ``ended = greatest(created, started, now)``), as the
SQLite statements do.

The function's name carries its version: a change of its text is a new revision with a new
name (``…_v8``), so a database shared with workers still on the previous release keeps the
function those call until they are gone — unless the old one would break a rule that keeps
apps apart (revision 0011 dropped ``_v3``, which claims across apps).

A chunk's group commit (``write_chunk``) is one statement too, in autocommit
(``postgres/chunks.py``): no function, no revision — its text ships with the release that
sends it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sysjobs.store.backend import ClaimSpec, Finished, FinishSpec
from sysjobs.store.core import CoreBackend
from sysjobs.store.leases import claim_groups, merged, share
from sysjobs.store.postgres import chunks
from sysjobs.store.rows import Now, Row

if TYPE_CHECKING:
    from sysjobs.store.database import Database

#: The lease function this release calls (its text: ``sql/schema.sql``).
FUNCTION = "sysjobs_end_and_claim_v8"
_CALL = f"SELECT {FUNCTION}(%s::json, %s::json, %s, %s)"
#: What an end may set besides the lease's own columns (what the function knows).
_VALUES = frozenset({"has_errors", "progress"})


class PostgresBackend(CoreBackend):
    """``JobBackend`` on PostgreSQL: claims and ends in the server function."""

    def __init__(self, db: Database, now: Now, *, channel: str | None) -> None:
        super().__init__(db, now)
        #: Where the function sends its hints (None: none, ``EngineSettings.hints`` off).
        self.channel = channel

    def claim(self, spec: ClaimSpec) -> list[Row]:
        """Lease up to ``limit`` pending jobs: normal (and aged) first, then low priority."""
        return self._call([], [spec], rows=True)[1][0]

    def finish(
        self, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec] = (), *, rows: bool = True
    ) -> Finished:
        """See ``JobBackend.finish``: identical claims are merged into one, as on SQLite."""
        for end in ends:
            _check(end)
        groups = claim_groups(claims)
        specs = [merged(claims, members) for members in groups]
        ended, per_group = self._call(ends, specs, rows=rows)
        return ended, share(claims, groups, per_group)

    def write_chunk(
        self, job_id: str, owner: str, attempt: int, entries: Sequence[Row],
        values: Mapping[str, Any],
    ) -> bool:  # fmt: skip
        """See ``JobBackend.write_chunk``: one statement in autocommit, one round trip
        (``postgres/chunks.py``) instead of a transaction's five."""
        with self.db.autocommit() as connection:
            held = chunks.write_chunk(connection, self.channel, job_id, owner, attempt,
                                      entries, values)  # fmt: skip
        if held:
            self.db.publish_local([f"job:{job_id}"])
        return held

    def _call(
        self, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec], *, rows: bool
    ) -> Finished:
        """End ``ends`` and lease for each of ``claims`` in one call; returns each end's row
        (None when fenced off; only ``id`` and ``status`` with ``rows=False``) and each
        claim's rows."""
        with self.db.autocommit() as connection:
            at = self.now()
            answer = connection.exec_driver_sql(
                _CALL, (_ends_json(ends, at), _claims_json(claims, at), self.channel, rows)
            ).scalar_one()
        ended: list[Row | None] = [None] * len(ends)
        for ord_, row, results in answer["ended"]:
            ended[ord_] = {**row, "results": results} if rows else dict(row)
        claimed = [
            [{**row, "results": results, "checkpoint": checkpoint}
             for row, results, checkpoint in found]
            for found in answer["claimed"]
        ]  # fmt: skip
        self.db.publish_local(_keys(ended, claimed))
        return ended, claimed


def _check(end: FinishSpec) -> None:
    """Refuse an end the function cannot write (it knows errors and progress only)."""
    if not set(end.values) <= _VALUES or end.values.get("has_errors", True) is not True:
        raise ValueError(f"the lease function cannot set {dict(end.values)!r}")


def _ends_json(ends: Sequence[FinishSpec], now: int) -> str:
    return json.dumps([
        {
            "ord": i, "id": e.job_id, "owner": e.owner, "attempt": e.attempt,
            "targets": dict(e.targets), "now": now,
            "has_errors": bool(e.values.get("has_errors", False)),
            "progress": e.values.get("progress"), "reason": e.reason,
            "has_results": e.results is not None,
            "results": dict(e.results) if e.results is not None else None,
        }
        for i, e in enumerate(ends)
    ])  # fmt: skip


def _claims_json(claims: Sequence[ClaimSpec], now: int) -> str:
    return json.dumps([
        {
            "owner": c.owner, "apps": list(c.apps), "queues": list(c.queues),
            "types": list(c.types),
            "app_types": {app: list(types) for app, types in c.app_types.items()},
            "limit": c.limit, "allow_low": c.allow_low, "aged_before": c.aged_before_ms,
            "now": now, "lease_ms": c.lease_ms,
            "queue_caps": {app: dict(caps) for app, caps in c.queue_caps.items() if caps},
            "app_caps": dict(c.app_caps),
        }
        for c in claims
    ])  # fmt: skip


def _keys(ended: list[Row | None], claimed: list[list[Row]]) -> list[str]:
    """The hint keys the function notified, for this process's waiters."""
    keys: list[str] = []
    for row in ended:
        if row is not None:
            keys.append(f"job:{row['id']}")
            if row["status"] == "PENDING":
                keys.append("work")
    keys.extend(f"job:{row['id']}" for rows in claimed for row in rows)
    return keys
