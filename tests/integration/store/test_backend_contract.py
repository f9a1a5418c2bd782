"""The backend contract (``sysjobs/store/backend.py``), one suite for both databases.

Every test runs on SQLite and on PostgreSQL (the ``db_url`` fixture) against the backend
``Database.backend()`` picks, with an injected clock, and expects the same outcome on both:
the claim order (oldest first, normal before low priority, ageing, queues and types),
fencing of a stale owner on every lease holder's write, the heartbeat, end-and-claim (the
claims do not see the ends), recovery of lost leases, the find/logs keyset pages, and the
wake-ups (this process's hints after each commit, another connection's through ``listen``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
import sqlalchemy as sa

from sysjobs.jobs.ids import new_job_id
from sysjobs.store.backend import ClaimSpec, FinishSpec, JobBackend, Recovery
from sysjobs.store.database import Database
from sysjobs.store.jobstore import JobStore
from sysjobs.store.listing import JobFilter, LogFilter
from sysjobs.store.rows import Row
from sysjobs.store.workers import WorkerBeat, WorkerStore
from tests.integration.engine.helpers import ManualClock

LEASE_MS = 10_000
COMPLETED = {"RUNNING": "FINISHED", "STOPPING": "FINISHED", "CANCELING": "FINISHED"}
PUT_BACK = {"RUNNING": "PENDING", "STOPPING": "STOPPED", "CANCELING": "CANCELED"}


@dataclass
class Setup:
    db: Database
    backend: JobBackend
    clock: ManualClock
    hints: list[str]

    def enqueue(self, *, low: bool = False, queue: str = "mix", type_: str = "T",
                ago_ms: int = 0) -> str:  # fmt: skip
        """Insert one PENDING job created ``ago_ms`` before now; the clock then moves 1 ms."""
        created = self.clock.now_ms() - ago_ms
        job_id = new_job_id(created)
        self.backend.insert_jobs([_row(job_id, created, low=low, queue=queue, type_=type_)],
                                 reason="enqueued")  # fmt: skip
        self.clock.advance(1)
        return job_id

    def claim(self, owner: str, limit: int, *, aged_before_ms: int = 0, **kw: Any) -> list[Row]:
        return self.backend.claim(spec(owner, limit, aged_before_ms=aged_before_ms, **kw))

    def job(self, job_id: str) -> Row:
        (row,) = [r for r in self.backend.jobs_page(JobFilter(), None, 1000) if r["id"] == job_id]
        return row


def spec(owner: str, limit: int, *, aged_before_ms: int = 0, queues: Iterable[str] = ("mix",),
         types: Iterable[str] = ("T",), allow_low: bool = True) -> ClaimSpec:  # fmt: skip
    return ClaimSpec(owner, tuple(queues), tuple(types), limit, allow_low, aged_before_ms, LEASE_MS,
                     apps=("contract",))  # fmt: skip


def end(row: Row, targets: dict[str, str] = COMPLETED, **values: Any) -> FinishSpec:
    return FinishSpec(row["id"], row["owner"], row["attempt"], targets=targets, values=values,
                      reason="test")  # fmt: skip


def _row(job_id: str, created: int, *, low: bool, queue: str, type_: str) -> dict[str, Any]:
    return {
        "id": job_id, "app": "contract", "type": type_, "label": type_, "status": "PENDING",
        "queue": queue,
        "low_priority": low, "progress": 0, "has_errors": False, "created_ms": created,
        "run_by_id": None, "run_by_name": None, "parent_id": None, "root_id": None,
        "data": {"n": 1}, "attempt": 0, "lost_count": 0, "max_retries": 0,
        "started_ms": None, "ended_ms": None, "owner": None, "lease_expires_ms": None,
        "force_at_ms": None,
    }  # fmt: skip


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and close every connection they open; taking a new one
    from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def s(db_url: str) -> Iterator[Setup]:
    db = Database(db_url)
    hints: list[str] = []
    db.local_sink = hints.extend
    clock = ManualClock()
    try:
        yield Setup(db, db.backend(clock.now_ms), clock, hints)
    finally:
        db.close()


def _ids(rows: Iterable[Row | None]) -> list[str | None]:
    return [None if r is None else r["id"] for r in rows]


def test_the_factory_gives_a_backend_with_every_verb_of_the_contract(s: Setup) -> None:
    verbs = {name for name in vars(JobBackend) if not name.startswith("_")}
    assert {"claim", "finish", "heartbeat", "recover", "jobs_page", "listen"} <= verbs
    assert isinstance(s.backend, JobBackend)
    assert sorted(v for v in verbs if not callable(getattr(s.backend, v, None))) == []


def test_claim_takes_the_oldest_normal_jobs_first_then_low_priority(s: Setup) -> None:
    low = s.enqueue(low=True, ago_ms=500)  # the oldest, but low priority
    normal = [s.enqueue() for _ in range(3)]
    first = s.claim("w1", 2)
    assert _ids(first) == normal[:2]
    assert [(r["status"], r["owner"], r["attempt"]) for r in first] == [("RUNNING", "w1", 1)] * 2
    assert [(r["results"], r["checkpoint"]) for r in first] == [(None, None)] * 2
    assert _ids(s.claim("w1", 5)) == [normal[2], low]
    assert s.claim("w1", 5) == []


def test_an_aged_low_priority_job_is_claimed_in_creation_order_with_normal_ones(s: Setup) -> None:
    low = s.enqueue(low=True, ago_ms=500)
    normal = s.enqueue()
    aged = s.clock.now_ms() - 100
    assert _ids(s.claim("w1", 1, aged_before_ms=aged)) == [low]
    assert _ids(s.claim("w1", 1, aged_before_ms=aged)) == [normal]


def test_claim_takes_only_its_queues_and_types_and_low_only_when_allowed(s: Setup) -> None:
    heavy = s.enqueue(queue="heavy")
    other = s.enqueue(type_="OTHER")
    low = s.enqueue(low=True)
    assert s.claim("w1", 5, allow_low=False) == []
    assert _ids(s.claim("w1", 5, queues=("heavy",))) == [heavy]
    assert _ids(s.claim("w1", 5, types=("OTHER",))) == [other]
    assert _ids(s.claim("w1", 5)) == [low]


def test_a_claim_never_starts_a_job_before_its_creation(s: Setup) -> None:
    job = s.enqueue()
    s.clock.advance(-60_000)  # the clock steps back
    (row,) = s.claim("w1", 1)
    assert row["id"] == job and row["started_ms"] == row["created_ms"]


def test_a_stale_owner_is_fenced_off_every_write_the_new_one_is_not(s: Setup) -> None:
    job = s.enqueue()
    (stale,) = s.claim("w1", 1)
    (lost,) = s.backend.recover(lambda row: ("PENDING", "lost", "INFO", "taken back", None), owner="w1")
    assert lost["id"] == job
    (fresh,) = s.claim("w2", 1)
    assert (fresh["id"], fresh["attempt"]) == (job, 2)
    old = (job, stale["owner"], stale["attempt"])
    new = (job, fresh["owner"], fresh["attempt"])
    line = {"ts_ms": s.clock.now_ms(), "level": "INFO", "message": "m", "additional_info": None}
    assert s.backend.set_progress(*old, 50) is False
    assert s.backend.append_log_fenced(*old, line) is False
    assert s.backend.append_log_fenced(*old, {**line, "level": "ERROR"}) is False
    assert s.backend.write_result_fields(*old, {"results": {"x": 1}}) is False
    assert s.backend.lease_status(*old) is None
    assert s.backend.heartbeat("w1", LEASE_MS) == []
    assert s.backend.finish([end(stale)])[0] == [None]
    assert s.backend.set_progress(*new, 50) is True
    assert s.backend.append_log_fenced(*new, line) is True
    assert s.backend.write_result_fields(*new, {"checkpoint": {"at": 3}}) is True
    assert s.backend.lease_status(*new) == {"status": "RUNNING", "force_at_ms": None}
    row = s.job(job)
    assert (row["status"], row["owner"], row["progress"], row["has_errors"]) == (
        "RUNNING", "w2", 50, False,
    )


def test_a_chunks_group_commit_is_written_whole_or_refused_whole(s: Setup) -> None:
    job = s.enqueue()
    (stale,) = s.claim("w1", 1)
    lines = [{"ts_ms": s.clock.now_ms(), "level": level, "message": f"line {i}",
              "additional_info": {"i": i}} for i, level in enumerate(["INFO", "ERROR", "INFO"])]
    old = (job, stale["owner"], stale["attempt"])
    assert s.backend.write_chunk(*old, lines[:1], {"checkpoint": {"done": 1}}) is True
    s.backend.recover(lambda row: ("PENDING", "lost", "INFO", "taken back", None), owner="w1")
    (fresh,) = s.claim("w2", 1)
    values = {"checkpoint": {"done": 9}, "results": {"r": 9}}
    assert s.backend.write_chunk(*old, lines, values) is False  # nothing of it is written
    assert (fresh["checkpoint"], fresh["results"]) == ({"done": 1}, None)
    assert not s.job(job)["has_errors"]
    new = (job, fresh["owner"], fresh["attempt"])
    assert s.backend.write_chunk(*new, lines[1:], {"checkpoint": {"done": 3}}) is True
    assert s.backend.write_chunk(*new, [], {}) is True  # an empty chunk still answers the fence
    page = s.backend.logs_page(LogFilter(job), None, 100)
    assert [r["message"] for r in page if r["message"].startswith("line")] == [
        "line 0", "line 1", "line 2"]
    assert s.job(job)["has_errors"]


def _chunk_lines(s: Setup) -> list[Row]:
    return [{"ts_ms": s.clock.now_ms(), "level": level, "message": f"chunk {i}",
             "additional_info": {"i": i}} for i, level in enumerate(["INFO", "ERROR"])]


def _chunk_traces(s: Setup, job: str) -> tuple[Any, Any, bool, list[str]]:
    """What a chunk writes: checkpoint, results, has_errors, its lines."""
    page = s.backend.logs_page(LogFilter(job), None, 100)
    row = s.job(job)
    store = JobStore(s.db)
    return store.checkpoint(job), store.results_of([job], apps=None)[job], bool(row["has_errors"]), [
        r["message"] for r in page if r["message"].startswith("chunk")]


@pytest.mark.parametrize("lost", ["taken back, waiting", "ended", "cancel ended it"])
def test_a_chunk_of_a_lease_no_longer_held_writes_nothing_and_says_so(
    s: Setup, lost: str
) -> None:
    job = s.enqueue()
    (row,) = s.claim("w1", 1)
    lease = (job, "w1", row["attempt"])
    if lost == "taken back, waiting":  # no owner now, PENDING
        s.backend.recover(lambda r: ("PENDING", "lost", "INFO", "taken back", None), owner="w1")
    elif lost == "ended":
        assert s.backend.finish([end(row)])[0][0] is not None
    else:
        assert s.backend.finish([end(row, {"RUNNING": "CANCELED"})])[0][0] is not None
    s.hints.clear()
    values = {"checkpoint": {"done": 2}, "results": {"r": 2}}
    assert s.backend.write_chunk(*lease, _chunk_lines(s), values) is False
    assert s.backend.write_chunk(*lease, [], {}) is False
    assert _chunk_traces(s, job) == (None, None, False, [])
    assert s.hints == []


def test_a_chunk_sets_only_the_result_fields_it_carries(s: Setup) -> None:
    job = s.enqueue()
    (row,) = s.claim("w1", 1)
    lease = (job, "w1", row["attempt"])
    assert s.backend.write_chunk(*lease, [], {"checkpoint": {"done": 1}, "results": {"r": 1}})
    assert s.backend.write_chunk(*lease, [], {"checkpoint": {"done": 2}}) is True
    assert _chunk_traces(s, job) == ({"done": 2}, {"r": 1}, False, [])
    assert s.backend.write_chunk(*lease, _chunk_lines(s)[:1], {"results": {"r": 3}}) is True
    assert _chunk_traces(s, job) == ({"done": 2}, {"r": 3}, False, ["chunk 0"])
    s.hints.clear()
    assert s.backend.write_chunk(*lease, _chunk_lines(s)[1:], {}) is True
    assert _chunk_traces(s, job) == ({"done": 2}, {"r": 3}, True, ["chunk 0", "chunk 1"])
    assert s.hints == [f"job:{job}"]


def test_a_chunks_lines_keep_their_order_and_hostile_text(s: Setup) -> None:
    job = s.enqueue()
    (row,) = s.claim("w1", 1)
    hostile = ["chunk \\ud800 escaped", "chunk '); DROP TABLE jobs;--", "chunk %(id)s %s {}",
               "chunk " + "x" * 1_000_000, *(f"chunk {i}" for i in range(200))]
    lines = [{"ts_ms": s.clock.now_ms() - i % 3, "level": "INFO", "message": m,
              "additional_info": {"deep": [[[m[:20]]]], "n": 2**62}}
             for i, m in enumerate(hostile)]  # fmt: skip
    assert s.backend.write_chunk(job, "w1", row["attempt"], lines, {}) is True
    page = s.backend.logs_page(LogFilter(job), None, 1000)
    mine = [r for r in page if r["message"].startswith("chunk")]
    assert sorted((r["ts_ms"], r["id"]) for r in mine) == [(r["ts_ms"], r["id"]) for r in mine]
    assert sorted(mine, key=lambda r: r["id"]) == sorted(
        mine, key=lambda r: hostile.index(r["message"]))
    assert {r["message"] for r in mine} == set(hostile)
    assert mine[0]["additional_info"]["n"] == 2**62


def test_a_chunks_group_commit_is_one_statement_on_postgresql_one_transaction_on_sqlite(
    s: Setup,
) -> None:
    job = s.enqueue()
    (row,) = s.claim("w1", 1)
    sent: list[tuple[str, bool]] = []
    transactions: list[str] = []

    def statement(conn: sa.Connection, _cursor: Any, text: str, *_args: Any) -> None:
        sent.append((text.split()[0].upper(), bool(conn.connection.driver_connection.autocommit)
                     if s.db.name == "postgresql" else False))  # fmt: skip

    sa.event.listen(s.db.engine, "before_cursor_execute", statement)
    sa.event.listen(s.db.engine, "begin", lambda _conn: transactions.append("begin"))
    try:
        values = {"checkpoint": {"done": 2}, "results": {"r": 2}}
        assert s.backend.write_chunk(job, "w1", row["attempt"], _chunk_lines(s), values) is True
    finally:
        sa.event.remove(s.db.engine, "before_cursor_execute", statement)
    if s.db.name == "postgresql":  # one round trip: no BEGIN, no COMMIT of its own
        assert sent == [("WITH", True)]
    else:  # in process: the fence, the flag, the lines, the results in one transaction
        assert len(transactions) == 1 and len(sent) >= 3
    assert _chunk_traces(s, job) == ({"done": 2}, {"r": 2}, True, ["chunk 0", "chunk 1"])


def test_a_chunk_is_written_and_fenced_with_hints_off(db_url: str) -> None:
    db = Database(db_url, hints=False)
    try:
        clock = ManualClock()
        quiet = Setup(db, db.backend(clock.now_ms), clock, [])
        job = quiet.enqueue()
        (row,) = quiet.claim("w1", 1)
        lines = _chunk_lines(quiet)
        assert quiet.backend.write_chunk(job, "w1", row["attempt"], lines, {"checkpoint": {"n": 1}})
        assert quiet.backend.write_chunk(job, "w2", row["attempt"], lines, {}) is False
        assert _chunk_traces(quiet, job) == ({"n": 1}, None, True, ["chunk 0", "chunk 1"])
    finally:
        db.close()


def test_a_claim_after_a_lost_lease_carries_the_results_and_checkpoint(s: Setup) -> None:
    s.enqueue()
    (first,) = s.claim("w1", 1)
    lease = (first["id"], "w1", 1)
    assert s.backend.write_result_fields(*lease, {"results": {"r": 1}, "checkpoint": {"c": 2}})
    s.backend.recover(lambda row: ("PENDING", "lost", "INFO", "again", None), owner="w1")
    (again,) = s.claim("w2", 1)
    assert (again["results"], again["checkpoint"]) == ({"r": 1}, {"c": 2})


def test_heartbeat_extends_the_owners_leases_only(s: Setup) -> None:
    for _ in range(3):
        s.enqueue()
    mine = s.claim("w1", 2)
    (theirs,) = s.claim("w2", 1)
    s.clock.advance(5_000)
    beat = s.backend.heartbeat("w1", 30_000)
    assert sorted(_ids(beat)) == sorted(_ids(mine))  # type: ignore[type-var]
    assert {(r["attempt"], r["status"], r["force_at_ms"]) for r in beat} == {(1, "RUNNING", None)}
    now = s.clock.now_ms()
    assert [s.job(r["id"])["lease_expires_ms"] for r in mine] == [now + 30_000] * 2
    assert s.job(theirs["id"])["lease_expires_ms"] == theirs["lease_expires_ms"]
    assert _ids(s.backend.heartbeat("w1", 1, job_ids=[mine[0]["id"]])) == [mine[0]["id"]]


def test_heartbeat_refreshes_the_workers_registry_row_in_the_same_call(s: Setup) -> None:
    s.enqueue()
    (held,) = s.claim("w1", 1)
    store = WorkerStore(s.db, s.clock.now_ms)
    beat = WorkerBeat("w1", "host-a", 42, 2, {"mix": 2}, ("contract",), LEASE_MS, 0)
    s.backend.heartbeat("w1", LEASE_MS, worker=replace(beat, job_ids=(held["id"],)))
    (inserted,) = store.rows()  # written although the pool had not registered
    s.clock.advance(5_000)
    s.backend.heartbeat("w1", LEASE_MS, worker=beat)
    (refreshed,) = store.rows()
    assert (inserted["busy"], inserted["job_ids"], inserted["apps"]) == (1, [held["id"]],
                                                                        ["contract"])  # fmt: skip
    assert (refreshed["busy"], refreshed["job_ids"]) == (0, [])
    assert refreshed["last_seen_ms"] == inserted["last_seen_ms"] + 5_000 == s.clock.now_ms()


def test_end_and_claim_ends_first_and_its_claims_do_not_see_the_ends(s: Setup) -> None:
    a, b = s.enqueue(), s.enqueue()
    (held,) = s.claim("w1", 1)
    assert held["id"] == a
    s.clock.advance(100)
    ended, claimed = s.backend.finish(
        [end(held, progress=100, has_errors=True)], [spec("w1", 1), spec("w1", 1)]
    )
    (row,) = ended
    assert row is not None
    assert (row["id"], row["status"], row["owner"], row["progress"], row["has_errors"]) == (
        a, "FINISHED", None, 100, True,
    )
    assert row["ended_ms"] == s.clock.now_ms()
    assert [_ids(rows) for rows in claimed] == [[b], []]
    # a job put back to PENDING is not taken again by the same call's claim
    put_back, again = s.backend.finish([end(claimed[0][0], PUT_BACK)], [spec("w1", 1)])
    assert [(r["id"], r["status"], r["ended_ms"]) for r in put_back if r] == [(b, "PENDING", None)]
    assert again == [[]]
    assert "work" in s.hints


def test_finish_refuses_a_status_its_map_does_not_know_and_can_skip_rows(s: Setup) -> None:
    s.enqueue()
    s.enqueue()
    first, second = s.claim("w1", 2)
    assert s.backend.finish([end(first, {"STOPPING": "STOPPED"})])[0] == [None]
    assert s.job(first["id"])["status"] == "RUNNING"
    ended, _ = s.backend.finish([end(first), end(second)], rows=False)
    assert ended == [{"id": first["id"], "status": "FINISHED"},
                     {"id": second["id"], "status": "FINISHED"}]  # fmt: skip


def test_finish_stores_results_with_the_end(s: Setup) -> None:
    s.enqueue()
    (held,) = s.claim("w1", 1)
    ended, _ = s.backend.finish(
        [FinishSpec(held["id"], "w1", 1, COMPLETED, {}, "done", results={"total": 3})]
    )
    assert ended[0] is not None and ended[0]["results"] == {"total": 3}
    assert s.job(held["id"])["results"] == {"total": 3}


def test_recover_takes_back_expired_leases_only_and_says_why(s: Setup) -> None:
    first, second = s.enqueue(), s.enqueue()
    s.claim("w1", 1)
    s.clock.advance(LEASE_MS // 2)
    s.claim("w1", 1)
    s.clock.advance(LEASE_MS // 2 + 1)  # the first lease expired, the second not
    seen: list[Row] = []

    def decide(row: Row) -> Recovery:
        seen.append(row)
        return ("FINISHED", "lost", "ERROR", "its worker vanished", None)

    lost = s.backend.recover(decide, expired_before_ms=s.clock.now_ms())
    assert _ids(lost) == [first] and _ids(seen) == [first]
    row = s.job(first)
    assert (row["status"], row["owner"], row["has_errors"], row["lost_count"]) == (
        "FINISHED", None, True, 1,
    )
    assert s.job(second)["status"] == "RUNNING"
    logs = s.backend.logs_page(LogFilter(first), None, 10)
    assert [(r["level"], r["message"]) for r in logs] == [("ERROR", "its worker vanished")]


def test_find_pages_newest_first_by_keyset_and_counts(s: Setup) -> None:
    made = [s.enqueue() for _ in range(5)]
    s.claim("w1", 1)
    page = s.backend.jobs_page(JobFilter(), None, 2)
    assert _ids(page) == made[::-1][:2]
    after = (page[-1]["created_ms"], page[-1]["id"])
    assert _ids(s.backend.jobs_page(JobFilter(), after, 10)) == made[::-1][2:]
    assert s.backend.jobs_count(JobFilter()) == 5
    assert s.backend.jobs_count(JobFilter(statuses=("RUNNING",))) == 1
    assert _ids(s.backend.jobs_page(JobFilter(statuses=("RUNNING",)), None, 10)) == [made[0]]


def test_logs_page_oldest_first_by_keyset_and_filters(s: Setup) -> None:
    job = s.enqueue()
    for i in range(5):
        line = {"ts_ms": s.clock.now_ms(), "level": "ERROR" if i == 3 else "INFO",
                "message": f"Line {i}", "additional_info": {"i": i}}  # fmt: skip
        assert s.backend.append_log(job, line, apps=("contract",)) is True
        s.clock.advance(1)
    page = s.backend.logs_page(LogFilter(job), None, 2)
    assert [r["message"] for r in page] == ["Line 0", "Line 1"]
    after = (page[-1]["ts_ms"], page[-1]["id"])
    assert [r["message"] for r in s.backend.logs_page(LogFilter(job), after, 10)] == [
        "Line 2", "Line 3", "Line 4",
    ]
    assert s.backend.logs_count(LogFilter(job)) == 5
    assert s.backend.logs_count(LogFilter(job, level="ERROR")) == 1
    assert s.backend.logs_count(LogFilter(job, message="line 4")) == 1  # ignoring case
    assert s.job(job)["has_errors"] is True
    assert s.backend.append_log("0" * 24, {**line}, apps=None) is False


def test_this_processs_commits_hint_its_waiters(s: Setup) -> None:
    job = s.enqueue()
    assert "work" in s.hints and f"job:{job}" in s.hints
    s.hints.clear()
    s.claim("w1", 1)
    assert s.hints == [f"job:{job}"]
    assert 0 < s.backend.poll_interval(0) <= s.backend.poll_interval(50)


def test_another_connections_commit_wakes_a_listener(s: Setup, db_url: str) -> None:
    woke = threading.Event()

    def sink(keys: Iterable[str]) -> None:
        if {"work", "*"} & set(keys):
            woke.set()

    s.backend.listen(sink)
    other = Database(db_url)
    try:
        created = s.clock.now_ms()
        row = _row(new_job_id(created), created, low=False, queue="mix", type_="T")
        other.backend(s.clock.now_ms).insert_jobs([row])
        assert woke.wait(30)
    finally:
        other.close()
