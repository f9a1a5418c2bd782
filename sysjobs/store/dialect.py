"""What differs between SQLite and PostgreSQL, and nothing else.

Procrastinate keeps its connector to a handful of operations; ours is smaller still. Every
query but the lease path is written once (SQLAlchemy Core, in the shared ``store``
modules); a dialect only says how to build the engine, how a *write* transaction begins
(SQLite must take its write lock up front with ``BEGIN IMMEDIATE`` or two claimers deadlock
on lock upgrade, while its reads begin deferred and never wait for that lock), how it ends
(the rows kept for the end and the wake-up hint, with the commit), where hints from other
processes come from, how often to poll when hints cannot be trusted, how to insert
thousands of rows at once — and the few places where one planner differs (whether it
estimates ranges, case-insensitive search, the migration lock). The lease path — claim and
end-and-claim, the hottest queries — is each backend's own: :meth:`Dialect.backend` builds
the database's implementation of the engine's contract (``store/backend.py``).

The implementations live in ``store/sqlite/`` and ``store/postgres/``. Nothing outside
them asks which database it is: a difference is a method here or a verb of the contract
(``tests/unit/store/test_dialect_names.py`` holds that line).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

if TYPE_CHECKING:
    from sysjobs.store.backend import JobBackend
    from sysjobs.store.database import Database
    from sysjobs.store.rows import Now

#: The execution option ``Database.write`` sets on its connection: begin as a writer.
WRITE_OPTION = "sysjobs_write"

#: Called with the keys a hint names ("*" = anything may have changed).
HintSink = Callable[[Sequence[str]], None]


@dataclass
class Ending:
    """What a write transaction does last, with its commit (see ``Tx``).

    The statements and rows nothing reads back before the commit (the release of ended
    leases, the audit trail): PostgreSQL sends them, the hint and the COMMIT in one round
    trip.
    """

    #: Hint keys of what the transaction changed.
    keys: list[str] = field(default_factory=list)
    #: Statements to execute, each with its parameter sets, in order.
    statements: list[tuple[sa.Executable, Sequence[Mapping[str, Any]]]] = field(
        default_factory=list
    )
    #: Rows to insert, per table, after the statements.
    inserts: list[tuple[sa.Table, Sequence[Mapping[str, Any]]]] = field(default_factory=list)


class Listener(Protocol):
    """A background source of hints from other processes."""

    def close(self) -> None:
        """Stop listening and release the connection."""


class Dialect(Protocol):
    """The per-database seam: engine setup, write begin, notify, listen, poll pace."""

    #: "sqlite" or "postgresql" (for people and logs; code asks the methods below).
    name: str

    def serves(self, url: sa.URL) -> bool:
        """Whether ``url`` is a database of this kind."""

    def create_engine(self, url: sa.URL) -> sa.Engine:
        """An engine configured for this database (pragmas, pool, begin mode)."""

    def end_write(self, connection: sa.Connection, ending: Ending) -> None:
        """The write transaction's last act: run ``ending``'s statements and inserts, and
        publish its hint (delivered on commit, if at all).

        It may commit the transaction itself (PostgreSQL sends it all with the COMMIT in
        one round trip); the caller's commit then has nothing left to do.
        """

    def listen(self, url: sa.URL, sink: HintSink) -> Listener | None:
        """Start receiving other processes' hints, or None when the database has none."""

    def poll_interval(self, idle_rounds: int) -> float:
        """Seconds to sleep between re-reads after ``idle_rounds`` rounds without change."""

    def insert_rows(
        self, connection: sa.Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]
    ) -> None:
        """Insert many rows of the same keys (an enqueue of thousands of jobs); none: no-op."""

    def writer_lock(self) -> AbstractContextManager[Any]:
        """What the threads of one process hold around a write transaction."""

    def backend(self, db: Database, now: Now) -> JobBackend:
        """This database's implementation of the engine's contract (``store/backend.py``),
        reading time from ``now``."""

    def reads_in_autocommit(self) -> bool:
        """Whether a read without a time bound may run each statement as its own
        transaction: true where a read transaction would give its statements nothing more
        (each statement its own snapshot) and costs a BEGIN and a ROLLBACK round trip."""

    def estimates_ranges(self) -> bool:
        """Whether the planner estimates how many rows a range keeps (histograms); without,
        a page with a start/end range is steered by hand (``listing.py``)."""

    def contains_ignoring_case(
        self, column: sa.ColumnElement[str], text: str
    ) -> sa.ColumnElement[bool]:
        """``column`` contains ``text`` ignoring case, in the form its index can serve."""

    def lock_for_migration(self, connection: sa.Connection) -> None:
        """Serialise concurrent migrations of one database (several processes starting)."""

    def bound_statements(self, connection: sa.Connection, seconds: float) -> Callable[[], None]:
        """Make the statements ``connection`` runs from now on stop after ``seconds``
        (a script's remaining time); returns what lifts the bound again."""
        ...

    def shared_by_processes(self, url: sa.URL) -> bool:
        """Whether another process can open the database ``url`` names."""


def column_defaults(table: sa.Table, keys: Iterable[str]) -> dict[str, Any]:
    """The client-side scalar defaults of ``table``'s columns missing from ``keys``.

    A statement that names its columns itself (PostgreSQL's bulk insert) must fill them in,
    as SQLAlchemy's ``insert()`` would.
    """
    given = set(keys)
    return {
        c.name: c.default.arg  # type: ignore[attr-defined]
        for c in table.columns
        if c.name not in given and c.default is not None and c.default.is_scalar
    }
