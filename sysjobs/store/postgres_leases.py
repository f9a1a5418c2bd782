"""The lease verbs on PostgreSQL: one call of ``sysjobs_end_and_claim`` (revisions 0006-0008).

``LeaseStore.finish`` and ``LeaseStore.claim`` come here on PostgreSQL. The function does
in the server what ``store/leases.py`` does statement by statement on SQLite — the same
fences, status maps, events and hints — as one statement in autocommit: one round trip for
a worker's whole group commit, and plans that do not depend on the table's statistics.
This module only turns the specs into the function's JSON and its answer back into rows.

The time it sends is read just before the call; no lock orders it against other clients'
writes, so the function clamps every time it stores to the job's own earlier times
(revision 0008: ``started = greatest(created, now)``, ``ended = greatest(created, started,
now)``), as the statements of ``store/leases.py`` do on SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sysjobs.store.rows import Row

if TYPE_CHECKING:
    from sysjobs.store.database import Database
    from sysjobs.store.leases import ClaimSpec, FinishSpec

_CALL = "SELECT sysjobs_end_and_claim(%s::json, %s::json, %s, %s)"
#: What an end may set besides the lease's own columns (what ``Leases`` ever asks for).
_VALUES = frozenset({"has_errors", "progress"})


def serves(end: FinishSpec) -> bool:
    """Whether the server function can write ``end`` (it knows errors and progress only)."""
    return set(end.values) <= _VALUES and end.values.get("has_errors", True) is True


def end_and_claim(
    db: Database, ends: Sequence[FinishSpec], claims: Sequence[ClaimSpec],
    now: Callable[[], int], *, channel: str | None, rows: bool = True,
) -> tuple[list[Row | None], list[list[Row]]]:
    """End ``ends`` and lease for each of ``claims`` (normal, then low priority) at once.

    Returns each end's row as it is now (None when fenced off; only ``id`` and ``status``
    with ``rows=False``) and each claim's rows. Hints go out on ``channel`` (None: none).
    """
    with db.autocommit() as connection:
        at = now()
        answer = connection.exec_driver_sql(
            _CALL, (_ends_json(ends, at), _claims_json(claims, at), channel, rows)
        ).scalar_one()
    ended: list[Row | None] = [None] * len(ends)
    for ord_, row, results in answer["ended"]:
        ended[ord_] = {**row, "results": results}
    claimed = [
        [{**row, "results": results, "checkpoint": checkpoint} for row, results, checkpoint in rows]
        for rows in answer["claimed"]
    ]
    db.publish_local(_keys(ended, claimed))
    return ended, claimed


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
            "owner": c.owner, "queues": list(c.queues), "types": list(c.types),
            "limit": c.limit, "allow_low": c.allow_low, "aged_before": c.aged_before_ms,
            "now": now, "lease_ms": c.lease_ms,
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
