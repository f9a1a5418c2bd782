"""The fencing token of one claim, and the progress check every fenced write shares.

A leaf module: a running job's context (``sysjobs.jobs.context``) needs the token without
the lease verbs (``sysjobs.jobs.leases``), which need the registry, whose job types name
the context — the token living here keeps that a line, not a circle.
"""

from __future__ import annotations

from dataclasses import dataclass

from sysjobs.errors import BadRequest


@dataclass(frozen=True)
class Lease:
    """The fencing token of one claim."""

    job_id: str
    owner: str
    attempt: int


def check_progress(pct: object) -> int:
    """``pct`` as an int 0-100, else ``BadRequest`` naming the parameter."""
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 100:
        raise BadRequest(
            f"Invalid value {pct!r} for parameter 'progress'. Allowed values: 0 to 100"
        )
    return int(pct)
