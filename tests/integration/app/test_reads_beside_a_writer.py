"""On SQLite, reads never wait for the write lock: ``sys.data.find``, ``sys.jobs.find`` and
``sys.jobs.findById`` (and the engine's own reads) return while another connection holds an
open write transaction, and see the last committed state.

The writer is a plain ``sqlite3`` connection on another thread that takes ``BEGIN
IMMEDIATE``, changes a record and waits, holding the lock, until the test has read. The
busy timeout is cut to half a second here so that a read which did wait for the lock fails
at once with "database is locked" instead of after 30 s.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.store.sqlite import dialect as sqlite
from tests.integration.app.conftest import AppEnv, make_env

SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
#: What a connection that gave up waiting for the lock raises (as SQLite's, or wrapped).
LOCKED = (sqlite3.OperationalError, sa.exc.OperationalError)


@pytest.fixture
def quiet(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppEnv]:
    monkeypatch.setattr(sqlite, "BUSY_TIMEOUT_S", 0.5)
    env = make_env(db_url, workers=False)
    yield env
    env.close()


class Writer:
    """Another connection holding SQLite's write lock, with a change not yet committed."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.holding = threading.Event()
        self.release = threading.Event()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="test-writer")

    def _run(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE app_records SET label = 'uncommitted'")
            self.holding.set()
            self.release.wait()
            conn.execute("ROLLBACK")
        except BaseException as exc:  # reported by the test
            self.failure = exc
            self.holding.set()
        finally:
            conn.close()

    def __enter__(self) -> Writer:
        self.thread.start()
        assert self.holding.wait(30), "the writer never took the lock"
        assert self.failure is None, self.failure
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release.set()
        self.thread.join()


def _database_file(env: AppEnv) -> Path:
    database = env.engine.database.url.database
    assert database is not None
    return Path(database)


@SQLITE_ONLY
def test_script_reads_return_while_another_connection_holds_the_write_lock(
    quiet: AppEnv,
) -> None:
    job_id = quiet.engine.enqueue("EXPORT_USERS", {}).id
    with Writer(_database_file(quiet)) as writer:
        out: Any = quiet.js(f"""
            var rs = sys.data.find('companies', {{_sortField: 'name'}});
            var labels = [];
            while (rs.hasNext()) labels.push(rs.next().label());
            var jobs = sys.jobs.find({{}});
            var ids = [];
            while (jobs.hasNext()) ids.push(jobs.next().id());
            [labels, ids, sys.jobs.findById('{job_id}').id()];
        """)
        engine_reads = (quiet.engine.require(job_id).id, [j.id for j in quiet.engine.find({})])
        assert writer.thread.is_alive() and not writer.release.is_set()  # still holding
        with pytest.raises(LOCKED, match="database is locked"):  # a write does wait
            quiet.engine.enqueue("EXPORT_USERS", {})
    labels, ids, found = out
    assert "uncommitted" not in labels and len(labels) == 5  # the committed snapshot
    assert ids == [job_id] and found == job_id
    assert engine_reads == (job_id, [job_id])
