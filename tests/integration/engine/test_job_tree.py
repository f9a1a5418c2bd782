"""The job tree in the engine: parent and root of every job started from a running job,
children counts, and stop / resume / cancel acting on a job with everything below it —
on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from itertools import pairwise

import pytest

from sysjobs.errors import Conflict, NotFound
from sysjobs.jobs import Engine, JobStatus, Outcome, new_owner
from sysjobs.jobs.leases import Claimed
from tests.integration.engine.jobtypes import register

S = JobStatus


@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): these tests need
    only an empty migrated database and end every thread they start; taking a new one from
    the pool and checking it on the way back cost more than most tests here. The test that
    runs ``VACUUM ANALYZE`` has a database of its own (``own_eng``)."""
    return reused_db_url


@pytest.fixture
def eng(engine: Engine) -> Engine:
    register(engine)
    return engine


@pytest.fixture
def own_eng(own_db_url: str) -> Iterator[Engine]:
    """An engine on a new database of the module's backend, for a test that leaves planner
    statistics behind (which emptying does not undo)."""
    opened = Engine.open(own_db_url, migrate=False)
    register(opened)
    try:
        yield opened
    finally:
        opened.close()


def _claim(engine: Engine, job_id: str) -> Claimed:
    """Claim the oldest pending job, which must be ``job_id``."""
    (claimed,) = engine.leases.claim(new_owner(), limit=1)
    assert claimed.job.id == job_id
    return claimed


def _running_root(eng: Engine) -> tuple[str, Claimed]:
    root = eng.enqueue("NOOP", {})
    return root.id, _claim(eng, root.id)


def test_a_chain_fifty_deep_records_each_parent_and_the_one_root(eng: Engine) -> None:
    root = eng.enqueue("NOOP", {}, label="the root")
    chain = [root]
    for _ in range(50):
        chain.append(eng.enqueue("NOOP", {}, parent_id=chain[-1].id))
    for parent, child in pairwise(chain):
        assert child.parent_id == parent.id and child.root_id == root.id
    info = eng.tree_info(chain)
    assert info[root.id].parent is None and info[root.id].root is None
    last = info[chain[-1].id]
    assert last.parent is not None and last.parent.id == chain[-2].id
    assert last.root is not None and (last.root.id, last.root.label) == (root.id, "the root")
    assert [info[j.id].children for j in chain] == [1] * 50 + [0]


def test_five_hundred_children_are_counted_and_processed_ones_too(eng: Engine) -> None:
    root = eng.enqueue("NOOP", {})
    children = eng.enqueue_many("NOOP", [{}] * 500, parent_id=root.id)
    assert {c.root_id for c in children} == {root.id}
    for child in children[:7]:
        eng.cancel(child.id)
    info = eng.tree_info([root])[root.id]
    assert (info.children, info.children_processed) == (500, 7)
    page, total = eng.tree_jobs(root.id, size=100)
    assert total == 500 and len(page) == 100
    assert page[0].id == children[-1].id  # newest first


def test_a_job_of_another_app_is_never_a_parent(eng: Engine) -> None:
    other = eng.for_app("other")
    register(other)
    stranger = other.enqueue("NOOP", {})
    with pytest.raises(NotFound, match=stranger.id):
        eng.enqueue("NOOP", {}, parent_id=stranger.id)
    with pytest.raises(NotFound):
        eng.enqueue_many("NOOP", [{}], parent_id=stranger.id)
    assert eng.find({}).count() == 0
    assert other.tree_info([stranger])[stranger.id].children == 0


def test_cancel_of_a_root_cancels_its_whole_tree(eng: Engine) -> None:
    root_id, _ = _running_root(eng)
    children = eng.enqueue_many("NOOP", [{}] * 500, parent_id=root_id)
    grandchild = eng.enqueue("NOOP", {}, parent_id=children[0].id)
    assert eng.cancel(root_id).status is S.CANCELING
    statuses = {eng.require(c.id).status for c in [*children, grandchild]}
    assert statuses == {S.CANCELED}
    reasons = [e.reason for e in eng.events(grandchild.id)]
    assert reasons[-1] == "cancel"


def test_stop_of_a_root_stops_its_tree_and_resume_resumes_it(eng: Engine) -> None:
    root_id, root_claim = _running_root(eng)
    running = eng.enqueue("NOOP", {}, parent_id=root_id)
    running_claim = _claim(eng, running.id)
    child = eng.enqueue("NOOP", {}, parent_id=root_id)
    assert eng.stop(root_id).status is S.STOPPING
    assert eng.require(child.id).status is S.STOPPED  # pending: it must not start
    assert eng.require(running.id).status is S.STOPPING
    eng.leases.finish(root_claim.lease, Outcome.STOPPED)
    eng.leases.finish(running_claim.lease, Outcome.STOPPED)
    assert eng.resume(root_id).status is S.PENDING
    assert {eng.require(i).status for i in (child.id, running.id)} == {S.PENDING}


def test_stop_of_a_child_acts_on_its_subtree_only(eng: Engine) -> None:
    root_id, _ = _running_root(eng)
    child = eng.enqueue("NOOP", {}, parent_id=root_id)
    _claim(eng, child.id)
    sibling = eng.enqueue("NOOP", {}, parent_id=root_id)
    grandchild = eng.enqueue("NOOP", {}, parent_id=child.id)
    assert eng.cancel(child.id).status is S.CANCELING
    assert eng.require(grandchild.id).status is S.CANCELED
    assert eng.require(sibling.id).status is S.PENDING
    assert eng.require(root_id).status is S.RUNNING


def test_a_finished_root_still_cancels_the_jobs_below_it(eng: Engine) -> None:
    root_id, claim = _running_root(eng)
    child = eng.enqueue("NOOP", {}, parent_id=root_id)
    eng.leases.finish(claim.lease, Outcome.COMPLETED)
    assert eng.cancel(root_id).status is S.FINISHED
    assert eng.require(child.id).status is S.CANCELED
    with pytest.raises(Conflict, match="its status is FINISHED"):
        eng.cancel(root_id)  # nothing left to cancel


def test_a_root_whose_status_refuses_the_verb_moves_nothing(eng: Engine) -> None:
    root = eng.enqueue("NOOP", {})
    child = eng.enqueue("NOOP", {}, parent_id=root.id)
    with pytest.raises(Conflict, match="its status is PENDING"):
        eng.stop(root.id)
    assert eng.require(child.id).status is S.PENDING


@pytest.mark.parametrize("verb, born", [("cancel", S.CANCELED), ("stop", S.STOPPED)])
def test_a_child_created_after_its_parent_was_stopped_or_canceled_is_born_so(
    eng: Engine, verb: str, born: JobStatus
) -> None:
    root_id, _ = _running_root(eng)
    getattr(eng, verb)(root_id)
    late = eng.enqueue("NOOP", {}, parent_id=root_id)
    assert late.status is born and eng.require(late.id).status is born
    many = eng.enqueue_many("NOOP", [{}] * 3, parent_id=root_id)
    assert {j.status for j in many} == {born}
    assert eng.require(late.id).ended_at is not None


def test_no_child_escapes_a_cancel_that_lands_while_children_are_enqueued(
    eng: Engine,
) -> None:
    """Threads keep adding children (and grandchildren) to a running tree while the root
    is canceled: every job of the tree ends up CANCELED, none stays PENDING."""
    root_id, _ = _running_root(eng)
    first = eng.enqueue("NOOP", {}, parent_id=root_id)
    _claim(eng, first.id)
    started, done = threading.Barrier(5), threading.Event()
    errors: list[BaseException] = []

    def enqueue_children(parent: str) -> None:
        # One batch before the cancel may land (else a fast cancel could find the threads
        # not yet started and the tree without children), then more until it has landed.
        try:
            eng.enqueue_many("NOOP", [{}] * 5, parent_id=parent)
            started.wait()
            while not done.is_set():
                eng.enqueue_many("NOOP", [{}] * 5, parent_id=parent)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            started.abort()

    threads = [threading.Thread(target=enqueue_children, args=(p,))
               for p in (root_id, root_id, first.id, first.id)]  # fmt: skip
    for thread in threads:
        thread.start()
    started.wait()
    eng.cancel(root_id)
    done.set()
    for thread in threads:
        thread.join()
    assert not errors
    tree, total = eng.tree_jobs(root_id, size=100_000)
    assert total == len(tree) > 1
    assert {j.status for j in tree} <= {S.CANCELED, S.CANCELING}
    assert {j.status for j in tree if j.id != first.id} == {S.CANCELED}


def test_a_pages_children_are_counted_in_one_query_over_the_parent_index(own_eng: Engine) -> None:
    """Bounded reads: a page of 50 jobs costs two queries (labels, counts), and the counts
    read ``ix_jobs_app_parent`` only, however many jobs the table holds."""
    eng = own_eng
    import sqlalchemy as sa

    from tests.integration.engine.test_listing_indexes import _plan, _statements

    roots = eng.enqueue_many("NOOP", [{}] * 2_000)
    children = [eng.enqueue_many("NOOP", [{}] * 20, parent_id=r.id) for r in roots[:49]]
    page = [*roots[:49], children[0][0]]
    if eng.database.name != "sqlite":  # statistics and a visibility map, as autovacuum keeps
        with eng.database.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.text("VACUUM ANALYZE jobs")
            )
    with _statements(eng) as seen:
        info = eng.tree_info(page)
    assert [info[j.id].children for j in page] == [20] * 49 + [0]
    selects = [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]
    counts = [(s, p) for s, p in selects if "count(" in s]
    assert len(selects) == 2 and len(counts) == 1
    plan = _plan(eng, *counts[0])
    assert "ix_jobs_app_parent" in plan, plan
