"""PostgreSQL's group commit of a chunk of work: one statement, one round trip.

``write_chunk`` (``JobBackend``) writes a chunk's log lines, its checkpoint and its results
under the lease, all or nothing. As statements in a transaction (``store/jobstore.py``, what
SQLite runs in process) that is five round trips on PostgreSQL — BEGIN, the fence's
``SELECT … FOR UPDATE``, the lines' INSERT, the results' UPDATE, then ``pg_notify`` and
COMMIT — and a record job makes one per chunk of 100 records. Here the same writes are the
data-modifying parts of one statement, run in autocommit (its own transaction):

* ``held`` locks the job's row if the lease still holds (same owner, same attempt, a leased
  status); every other part writes only for the row ``held`` found, so a lost lease writes
  nothing and the statement returns no row (False);
* ``flagged`` sets ``has_errors`` when a line is an ERROR (once: a row already flagged is
  not rewritten);
* ``logged`` inserts the lines in their order (their ids follow it), each in the job's app;
* ``written`` sets the checkpoint and/or the results (what ``values`` holds; the other
  column is left as it was);
* the final ``SELECT`` notifies ``job:<id>`` on the channel (delivered at commit), as the
  transaction's hint did.

The JSON travels as text the server parses: the lines as one array (as the bulk insert of
``postgres/dialect.py`` sends rows), the checkpoint and results as ``json.dumps`` writes
them (what the ``JSON`` column's bind did).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from sysjobs.store.rows import LEASED, Row

#: The chunk's group commit (see the module docstring); psycopg's ``%(name)s`` parameters.
WRITE_CHUNK = f"""
WITH held AS MATERIALIZED (
  SELECT j.id, j.app FROM jobs j
  WHERE j.id = %(id)s AND j.owner = %(owner)s AND j.attempt = %(attempt)s
    AND j.status IN ({", ".join(f"'{s}'" for s in LEASED)})
  FOR UPDATE
), flagged AS (
  UPDATE jobs j SET has_errors = true FROM held h
  WHERE %(errors)s AND j.id = h.id AND j.has_errors IS NOT true
), logged AS (
  INSERT INTO job_logs (job_id, app, ts_ms, level, message, additional_info)
  SELECT h.id, h.app, l.ts_ms, l.level, l.message, l.additional_info
  FROM held h CROSS JOIN json_populate_recordset(NULL::job_logs, %(lines)s::json)
    WITH ORDINALITY AS l
  ORDER BY l.ordinality
), written AS (
  UPDATE job_results r SET
    checkpoint = CASE WHEN %(set_checkpoint)s THEN %(checkpoint)s::json ELSE r.checkpoint END,
    results = CASE WHEN %(set_results)s THEN %(results)s::json ELSE r.results END
  FROM held h
  WHERE (%(set_checkpoint)s OR %(set_results)s) AND r.job_id = h.id
)
SELECT h.id, CASE WHEN %(channel)s::text IS NOT NULL
                  THEN pg_notify(%(channel)s::text, 'job:' || h.id) END
FROM held h
"""

#: The result fields a chunk may set.
FIELDS = frozenset({"checkpoint", "results"})


def write_chunk(
    connection: sa.Connection, channel: str | None, job_id: str, owner: str, attempt: int,
    entries: Sequence[Row], values: Mapping[str, Any],
) -> bool:  # fmt: skip
    """Run :data:`WRITE_CHUNK` on ``connection`` (in autocommit: the statement is its own
    transaction); False when the lease no longer holds (nothing written)."""
    unknown = set(values) - FIELDS
    if unknown:
        raise ValueError(f"a chunk cannot set {sorted(unknown)!r}")
    params = {
        "id": job_id, "owner": owner, "attempt": attempt,
        "errors": any(e["level"] == "ERROR" for e in entries),
        "lines": _lines(entries),
        "set_checkpoint": "checkpoint" in values,
        "checkpoint": _json(values, "checkpoint"),
        "set_results": "results" in values,
        "results": _json(values, "results"),
        "channel": channel,
    }  # fmt: skip
    return connection.exec_driver_sql(WRITE_CHUNK, params).first() is not None


def _lines(entries: Sequence[Row]) -> str:
    """The lines as one JSON array of ``job_logs`` fields."""
    return json.dumps(
        [{"ts_ms": e["ts_ms"], "level": e["level"], "message": e["message"],
          "additional_info": e.get("additional_info")} for e in entries],
        separators=(",", ":"),
    )  # fmt: skip


def _json(values: Mapping[str, Any], name: str) -> str | None:
    """``values[name]`` as JSON text; None when the chunk leaves that column as it is."""
    return json.dumps(values[name]) if name in values else None
