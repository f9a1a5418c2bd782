"""The lease functions never store a time before the job's own earlier times.

A claim or an end arrives with the time its client read just before the call; no lock
orders that read against other clients' writes, and clients' clocks differ. A claimer that
read its clock, then lost the CPU while a job was enqueued and committed, took that job
with a start before its creation (up to 66 ms in a review run; ``find({createTo:
started})`` then missed it). So the functions clamp, on the row they hold locked:

* a claim starts a job at ``greatest(created_ms, now)`` (a job that ran before keeps its
  first start), and dates its event ``greatest(started_ms, now)`` — and no earlier than the
  job's latest event when it ran before (a resume, a stop request);
* an end dates the job and its event ``greatest(created_ms, started_ms, now, latest
  event)``.

The latest event is one probe of ``ix_job_events_job`` per row (a first claim makes none).

Clamping, rather than reading the server's clock, keeps one source of time — the engine's
injected clock, which ``created_ms`` also comes from — and holds whatever the clocks of
the machines do. The functions are revision 0007's with these expressions changed (built
from its text, so nothing else can drift); ``downgrade`` puts 0007's back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

#: (revision 0007's text, this revision's) in ``sysjobs_claim_batch``.
CLAIM_BATCH_CHANGES = (
    ("started_ms = coalesce(j.started_ms, p_now)",
     "started_ms = coalesce(j.started_ms, greatest(j.created_ms, p_now))"),
    ("SELECT u.id, p_now, 'PENDING', 'RUNNING'",
     "SELECT u.id, greatest(u.started_ms, p_now, CASE WHEN u.attempt > 1 THEN\n"
     "             (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = u.id) END),\n"
     "           'PENDING', 'RUNNING'"),
)  # fmt: skip

#: When an end happens: never before the job's creation, start or latest event.
_ENDED_AT = (
    "greatest(j.created_ms, j.started_ms, ok.now,\n"
    "        (SELECT max(e.at_ms) FROM job_events e WHERE e.job_id = j.id))"
)

#: The same in ``sysjobs_end_and_claim`` (``j`` is the row ended; its created/started
#: times are not changed by the UPDATE, so old and new values agree).
FUNCTION_CHANGES = (
    ("ELSE ok.now END,", f"ELSE {_ENDED_AT} END,"),
    ("RETURNING ok.ord, j.id, ok.before, ok.after, ok.now,",
     f"RETURNING ok.ord, j.id, ok.before, ok.after, {_ENDED_AT} AS now,"),
)  # fmt: skip


def _revision_0007() -> ModuleType:
    path = Path(__file__).with_name("0007_pg_lease_function_joins.py")
    spec = importlib.util.spec_from_file_location("sysjobs_revision_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _changed(text: str, changes: tuple[tuple[str, str], ...]) -> str:
    """``text`` with each change made exactly once (fails loudly if 0007's text moved)."""
    for old, new in changes:
        if text.count(old) != 1:
            raise RuntimeError(f"revision 0008: expected {old!r} once in revision 0007's text")
        text = text.replace(old, new)
    return text


def claim_batch_sql() -> str:
    """This revision's ``sysjobs_claim_batch``."""
    previous = _revision_0007()
    text = _changed(previous.CLAIM_BATCH, CLAIM_BATCH_CHANGES)
    return text.replace("__ATTRIBUTES__", previous.ATTRIBUTES)


def function_sql() -> str:
    """This revision's ``sysjobs_end_and_claim``."""
    previous = _revision_0007()
    text = _changed(previous.FUNCTION, FUNCTION_CHANGES)
    return text.replace("__ATTRIBUTES__", previous.ATTRIBUTES)


def upgrade() -> None:
    if not _on_postgresql():
        return
    op.execute(claim_batch_sql())
    op.execute(function_sql())


def downgrade() -> None:
    """Back to revision 0007's functions."""
    if not _on_postgresql():
        return
    previous = _revision_0007()
    op.execute(previous.CLAIM_BATCH.replace("__ATTRIBUTES__", previous.ATTRIBUTES))
    op.execute(previous.FUNCTION.replace("__ATTRIBUTES__", previous.ATTRIBUTES))


def _on_postgresql() -> bool:
    """Only PostgreSQL has server functions (a revision runs on Alembic's own connection,
    below the dialect seam)."""
    return bool(op.get_context().dialect.name == "postgresql")
