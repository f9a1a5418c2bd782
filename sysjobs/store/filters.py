"""The find filter and how a page of it is read on SQLite — plain values, no SQLAlchemy.

Both readers of job pages take these: the store's SQLAlchemy statements
(``sysjobs.store.listing``) and the CLI's read path (``sysjobs.store.sqlite.reader``), which
runs their compiled text through the standard library's ``sqlite3``. What a page reads
(which terms, in which order, steered how) is decided here once, for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: An inclusive millisecond range; either end may be open.
Range = tuple[int | None, int | None]


@dataclass(frozen=True)
class JobFilter:
    """The find filters, already validated: empty tuples / None mean "any"."""

    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    created: Range = (None, None)
    started: Range = (None, None)
    ended: Range = (None, None)
    has_errors: bool | None = None
    #: The apps whose jobs are listed (None: every app, the operator's view).
    apps: Sequence[str] | None = None


#: How far the clocks of two hosts may disagree about one job (created on one, started or
#: ended on another). Leases already assume they agree to well within a lease (30 s).
CLOCK_SLACK_MS = 3_600_000
_BIGINT_END = 2**63  # a bound past BIGINT is no bound: leave it out rather than overflow


def created_bound_ms(f: JobFilter) -> int | None:
    """``startTo``/``endTo`` + slack: no job matching ``f`` was created after it (no job
    starts or ends before it is created); None without such an end, or past BIGINT
    (``listing._created_bound`` says why a page wants it)."""
    highs = [high for _, high in (f.started, f.ended) if high is not None]
    if not highs or min(highs) + CLOCK_SLACK_MS >= _BIGINT_END:
        return None
    return min(highs) + CLOCK_SLACK_MS


#: On SQLite a start/end range with fewer matches than this is read from its own index and
#: sorted; with more, the page walks ``ix_jobs_created`` (``listing._sqlite_page_steering``).
RANGE_PROBE = 2_000

#: The columns whose terms a plan may write with a unary ``+`` (``listing._plus``).
STEERABLE = frozenset({"type", "status", "has_errors", "created_ms", "started_ms", "ended_ms"})


@dataclass(frozen=True)
class PagePlan:
    """How a page's statement is written: the columns whose terms get a unary ``+`` (so
    SQLite uses no index for them), whether the order key gets it too, and whether the
    implied ``created_ms`` bound is added (``listing._created_bound``)."""

    plussed: frozenset[str] = frozenset()
    plussed_order: bool = False
    created_bound: bool = True


#: The page as the filter says, each database's planner choosing.
PLANNER = PagePlan()


def ranges(f: JobFilter) -> list[tuple[str, Range]]:
    """The start/end ranges the filter has, by column."""
    return [(c, b) for c, b in (("started_ms", f.started), ("ended_ms", f.ended))
            if b != (None, None)]  # fmt: skip


def sqlite_page_plan(f: JobFilter, probe: Callable[[str, Range], int]) -> PagePlan:
    """The plan of a SQLite page (``listing._sqlite_page_steering`` says why), given
    ``probe``: how many jobs a column's range holds, counted up to :data:`RANGE_PROBE`."""
    ranged = ranges(f)
    if not ranged:
        return PLANNER
    counts = [(probe(column, bounds), column) for column, bounds in ranged]
    fewest, by = min(counts, key=lambda c: c[0])
    if fewest < RANGE_PROBE:
        return PagePlan(plussed=STEERABLE - {by}, plussed_order=True, created_bound=False)
    if f.types or f.statuses or f.has_errors is not None:
        return PLANNER  # the planner's own choice, as before: see the docstring there
    return PagePlan(plussed=frozenset({"started_ms", "ended_ms"}))
