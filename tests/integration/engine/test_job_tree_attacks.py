"""Attacks on the job tree: verbs across apps, a tree whose middle job retention would
prune, take-overs racing claims — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sysjobs.errors import Conflict, NotFound
from sysjobs.jobs import Engine, EngineSettings, JobStatus, Outcome, new_owner
from tests.integration.engine.helpers import ManualClock
from tests.integration.engine.jobtypes import register

S = JobStatus
DAY_MS = 86_400_000



@pytest.fixture
def db_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``): taking a new
    one from the pool and checking it on the way back cost more than most tests here."""
    return reused_db_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def eng(db_url: str, clock: ManualClock) -> Iterator[Engine]:
    with Engine.open(db_url, settings=EngineSettings(clock=clock)) as opened:
        register(opened)
        yield opened


def _run_to_end(eng: Engine, job_id: str) -> None:
    (claimed,) = eng.leases.claim(new_owner(), limit=1)
    assert claimed.job.id == job_id
    eng.leases.finish(claimed.lease, Outcome.COMPLETED)


def test_a_finished_job_with_a_live_job_below_it_is_not_pruned(
    eng: Engine, clock: ManualClock
) -> None:
    """Root → middle → child → grandchild: the middle and the child finished long ago, the
    grandchild still waits. Pruning them would cut the parent chain the subtree verbs walk:
    a cancel of the root's direct child would miss the grandchild."""
    root = eng.enqueue("NOOP", {})
    top = eng.enqueue("NOOP", {}, parent_id=root.id)
    middle = eng.enqueue("NOOP", {}, parent_id=top.id)
    child = eng.enqueue("NOOP", {}, parent_id=middle.id)
    grandchild = eng.enqueue("NOOP", {}, parent_id=child.id)
    _run_to_end(eng, root.id)
    (claimed_top,) = eng.leases.claim(new_owner(), limit=1)  # top runs on
    assert claimed_top.job.id == top.id
    _run_to_end(eng, middle.id)
    _run_to_end(eng, child.id)
    clock.advance(30 * DAY_MS)
    eng.prune(jobs_days=7)
    assert eng.get(middle.id) is not None and eng.get(child.id) is not None
    assert eng.cancel(top.id).status is S.CANCELING
    assert eng.require(grandchild.id).status is S.CANCELED


def test_a_finished_tree_is_pruned_whole(eng: Engine, clock: ManualClock) -> None:
    root = eng.enqueue("NOOP", {})
    chain = [root]
    for _ in range(5):
        chain.append(eng.enqueue("NOOP", {}, parent_id=chain[-1].id))
    for job in chain:
        _run_to_end(eng, job.id)
    clock.advance(30 * DAY_MS)
    assert eng.prune(jobs_days=7).jobs == 6
    assert all(eng.get(j.id) is None for j in chain)


@pytest.mark.parametrize("verb", ["stop", "resume", "cancel", "kill", "force_stop"])
def test_a_verb_on_a_job_of_another_app_is_not_found_and_moves_nothing(
    eng: Engine, verb: str
) -> None:
    other = eng.for_app("other")
    register(other)
    root = other.enqueue("NOOP", {})
    (claimed,) = other.leases.claim(new_owner(), limit=1)
    assert claimed.job.id == root.id
    child = other.enqueue("NOOP", {}, parent_id=root.id)
    with pytest.raises(NotFound):
        getattr(eng, verb)(root.id)
    with pytest.raises(NotFound):
        getattr(eng, verb)(child.id)
    assert eng.take_pending(child.id, "taken") is None  # not one of its jobs: not taken
    assert other.require(root.id).status is S.RUNNING
    assert other.require(child.id).status is S.PENDING


def test_a_tree_resumed_after_a_long_stop_shares_the_claims_with_the_trees_pending_now(
    eng: Engine, clock: ManualClock
) -> None:
    """A stopped tree keeps its turns; resumed a day later, its twenty children must not all
    go before the children another tree enqueued meanwhile (that tree would starve until
    the resumed one is done): the two interleave from the head."""
    old = eng.enqueue("NOOP", {})
    (old_claim,) = eng.leases.claim(new_owner(), limit=1)
    old_children = {c.id for c in eng.enqueue_many("NOOP", [{}] * 20, parent_id=old.id)}
    eng.stop(old.id)
    eng.leases.finish(old_claim.lease, Outcome.STOPPED)
    clock.advance(DAY_MS)
    new = eng.enqueue("NOOP", {})
    (new_claim,) = eng.leases.claim(new_owner(), limit=1)
    assert new_claim.job.id == new.id
    new_children = {c.id for c in eng.enqueue_many("NOOP", [{}] * 20, parent_id=new.id)}
    assert eng.resume(old.id).status is S.PENDING
    first = [c.job.id for _ in range(10) for c in eng.leases.claim(new_owner(), limit=1)]
    assert len(first) == 10
    assert len(set(first) & new_children) >= 4
    assert len(set(first) & (old_children | {old.id})) >= 4


def test_a_resume_while_a_job_below_is_still_stopping_is_refused_and_moves_nothing(
    eng: Engine,
) -> None:
    """The root acknowledged its stop, a child's worker has not yet: resuming the root then
    would leave that child STOPPED for good under a running tree (an executeInJob owner
    would wait for its part forever). The resume is refused until the child is STOPPED."""
    root = eng.enqueue("NOOP", {})
    (root_claim,) = eng.leases.claim(new_owner(), limit=1)
    child = eng.enqueue("NOOP", {}, parent_id=root.id)
    (child_claim,) = eng.leases.claim(new_owner(), limit=1)
    assert child_claim.job.id == child.id
    eng.stop(root.id)
    eng.leases.finish(root_claim.lease, Outcome.STOPPED)
    with pytest.raises(Conflict, match=child.id):
        eng.resume(root.id)
    assert eng.require(root.id).status is S.STOPPED
    assert eng.require(child.id).status is S.STOPPING
    eng.leases.finish(child_claim.lease, Outcome.STOPPED)
    assert eng.resume(root.id).status is S.PENDING
    assert eng.require(child.id).status is S.PENDING


def test_a_take_over_racing_claims_gives_each_child_to_exactly_one_of_them(
    eng: Engine,
) -> None:
    """The owner takes over its children one by one while another process claims them:
    each child is run by the claimer or taken by the owner — never both, never neither."""
    root = eng.enqueue("NOOP", {})
    (root_claim,) = eng.leases.claim(new_owner(), limit=1)
    children = [c.id for c in eng.enqueue_many("NOOP", [{}] * 60, parent_id=root.id)]
    claimer = Engine.open(eng.url)
    register(claimer)
    claimed: list[str] = []
    taken: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def claim() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(60):
                claimed.extend(c.job.id for c in claimer.leases.claim(new_owner(), limit=1))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=claim)
    thread.start()
    start.wait(timeout=30)
    for child in children:
        if eng.take_pending(child, "taken over by its owner") is not None:
            taken.append(child)
    thread.join(timeout=120)
    claimer.close()
    assert errors == [] and not thread.is_alive()
    assert set(claimed).isdisjoint(taken)
    assert sorted([*claimed, *taken]) == sorted(children)
    statuses = {i: eng.require(i).status for i in children}
    assert all(statuses[i] is S.RUNNING for i in claimed)
    assert all(statuses[i] is S.CANCELED for i in taken)
    assert root_claim.job.id == root.id


def test_a_root_canceled_while_its_children_finish_leaves_every_child_ended(
    eng: Engine,
) -> None:
    """Another process ends the children's leases while the root's tree is canceled: each
    child ends FINISHED (its end came first) or CANCELED, none is left leased or pending."""
    root = eng.enqueue("NOOP", {})
    eng.leases.claim(new_owner(), limit=1)
    children = eng.enqueue_many("NOOP", [{}] * 40, parent_id=root.id)
    claims = eng.leases.claim(new_owner(), limit=40)
    assert len(claims) == 40
    other = Engine.open(eng.url)
    register(other)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def finish() -> None:
        try:
            start.wait(timeout=30)
            for claim in claims:
                other.leases.finish(claim.lease, Outcome.COMPLETED)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=finish)
    thread.start()
    start.wait(timeout=30)
    eng.cancel(root.id)
    thread.join(timeout=120)
    other.close()
    assert errors == [] and not thread.is_alive()
    ended = [eng.require(c.id) for c in children]
    assert {j.status for j in ended} <= {S.FINISHED, S.CANCELED}
    assert eng.find({"status": ["RUNNING", "CANCELING", "PENDING"]}).count() == 1  # the root
