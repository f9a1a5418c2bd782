"""Fair share per root job, on both databases: the claim goes by turn (``store/turns.py``).

A root job's children hold one turn each after the head of the app's pending jobs, so one
root with 10,000 pending children does not keep a job enqueued after them waiting behind
them, and two such trees take turns one to one. Jobs that belong to no tree, and the
children of one tree, keep their order. The assertions are on claim order, never on time.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.jobs import Engine, control
from sysjobs.jobs.leases import Claimed
from tests.integration.engine.jobtypes import register

OWNER = "w" * 24


@pytest.fixture
def jobs_engine(engine: Engine) -> Iterator[Engine]:
    register(engine)
    yield engine


def _claim(engine: Engine, limit: int) -> list[Claimed]:
    return engine.leases.claim(OWNER, limit=limit, lease_s=600)


def _running_root(engine: Engine) -> str:
    """A root job, claimed (it runs: the jobs it starts are its children)."""
    root = engine.enqueue("NOOP", {})
    (claimed,) = _claim(engine, 1)
    assert claimed.job.id == root.id
    return root.id


def _children(engine: Engine, root: str, count: int) -> list[str]:
    """``count`` children of ``root`` enqueued in one insert, as ``enqueue_many`` writes
    them (without reading the parent once per child: 10,000 reads would be the test)."""
    first = control.new_job_row(engine.parts, engine.registry.require("NOOP"), {},
                                label=None, run_by=None, low_priority=False, queue=None,
                                lineage=(root, root))  # fmt: skip
    rows = [{**first, "id": engine.parts.ids.new(first["created_ms"])} for _ in range(count)]
    engine.backend.insert_jobs(rows, reason="enqueued")
    return [r["id"] for r in rows]


def test_a_job_enqueued_after_a_root_with_10000_pending_children_is_claimed_in_the_first_claims(
    jobs_engine: Engine,
) -> None:
    root = _running_root(jobs_engine)
    children = _children(jobs_engine, root, 10_000)
    fresh = jobs_engine.enqueue("NOOP", {})
    first = [c.job.id for c in _claim(jobs_engine, 1) + _claim(jobs_engine, 1)]
    assert first == [children[0], fresh.id]
    # and the tree goes on in its order
    assert [c.job.id for c in _claim(jobs_engine, 3)] == children[1:4]


def test_two_trees_with_backlogs_take_turns_one_to_one(jobs_engine: Engine) -> None:
    first, second = _running_root(jobs_engine), _running_root(jobs_engine)
    jobs_engine.enqueue_many("NOOP", [{}] * 100, parent_id=first)
    jobs_engine.enqueue_many("NOOP", [{}] * 100, parent_id=second)
    trees = [c.job.root_id for _ in range(20) for c in _claim(jobs_engine, 1)]
    assert trees == [first, second] * 10


def test_a_grandchild_takes_its_turn_in_its_roots_tree(jobs_engine: Engine) -> None:
    root, other = _running_root(jobs_engine), _running_root(jobs_engine)
    children = jobs_engine.enqueue_many("NOOP", [{}] * 50, parent_id=root)
    grandchild = jobs_engine.enqueue("NOOP", {}, parent_id=children[0].id)
    assert grandchild.root_id == root
    others = jobs_engine.enqueue_many("NOOP", [{}] * 3, parent_id=other)
    order = [c.job.id for c in _claim(jobs_engine, 8)]
    # the grandchild waits behind its tree's 50 pending jobs; the other tree's go in between
    assert grandchild.id not in order
    assert [j.id for j in others] == [i for i in order if i in {j.id for j in others}]


def test_jobs_of_no_tree_are_claimed_oldest_first(jobs_engine: Engine) -> None:
    enqueued = [jobs_engine.enqueue("NOOP", {}).id for _ in range(30)]
    claimed = [c.job.id for _ in range(10) for c in _claim(jobs_engine, 3)]
    assert claimed == enqueued


def test_a_trees_children_are_claimed_in_their_order_across_batches(
    jobs_engine: Engine,
) -> None:
    root = _running_root(jobs_engine)
    batches = [jobs_engine.enqueue_many("NOOP", [{}] * 20, parent_id=root) for _ in range(3)]
    claimed = [c.job.id for _ in range(6) for c in _claim(jobs_engine, 10)]
    assert claimed == [j.id for batch in batches for j in batch]
