"""sys.jobs.Job's tree methods (docs/jobs-api.md, "The job tree"), one test per sentence:
``parentJob()``, ``rootJob()``, ``childrenJobsCount()``, ``childrenJobsProcessed()``."""

from __future__ import annotations

import sqlalchemy as sa

from sysjobs.store.schema import job_events, job_logs, job_results
from sysjobs.store.schema import jobs as jobs_table

from .helpers import JS, Jobs, clock_past


def _call(js: JS, job: str, method: str) -> object:
    return js.value(f"sys.jobs.findById('{job}').{method}")


def _child(jobs: Jobs, parent: str, label: str | None = None) -> str:
    return jobs.engine.enqueue("EXECUTE_ACTION", {}, label=label, parent_id=parent).id


def test_parent_job_is_the_id_and_label_of_the_job_running_when_it_was_created(
    js: JS, jobs: Jobs
) -> None:
    parent = jobs.running(label="The parent")
    child = _child(jobs, parent)
    assert _call(js, child, "parentJob()") == {"id": parent, "label": "The parent"}


def test_parent_job_is_null_for_a_root_job(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.pending(), "parentJob()") is None


def test_root_job_is_the_top_of_the_chain_of_parents(js: JS, jobs: Jobs) -> None:
    root = jobs.running(label="The root")
    grandchild = _child(jobs, _child(jobs, root))
    assert _call(js, grandchild, "rootJob()") == {"id": root, "label": "The root"}


def test_root_job_is_null_for_a_root_job(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.pending(), "rootJob()") is None


def test_children_jobs_count_counts_the_direct_children(js: JS, jobs: Jobs) -> None:
    root = jobs.running()
    child = _child(jobs, root)
    _child(jobs, root)
    _child(jobs, child)  # a grandchild is its parent's child, not the root's
    assert _call(js, root, "childrenJobsCount()") == 2
    assert _call(js, child, "childrenJobsCount()") == 1


def test_children_jobs_count_is_zero_without_children(js: JS, jobs: Jobs) -> None:
    assert _call(js, jobs.pending(), "childrenJobsCount()") == 0


def test_children_jobs_processed_counts_children_in_a_final_status(js: JS, jobs: Jobs) -> None:
    root = jobs.running()
    children = [_child(jobs, root) for _ in range(3)]
    jobs.cancel(children[0])
    assert _call(js, root, "childrenJobsProcessed()") == 1
    assert _call(js, root, "childrenJobsCount()") == 3


def test_tree_methods_read_the_tree_when_called(js: JS, jobs: Jobs) -> None:
    root = jobs.running()
    src = (f"var j = sys.jobs.findById('{root}'); var before = j.childrenJobsCount();"
           " __hook(); [before, j.childrenJobsCount()]")  # fmt: skip
    assert js.value(src, hook=lambda: _child(jobs, root)) == [0, 1]


def test_a_parent_removed_by_retention_keeps_its_id_with_a_null_label(js: JS, jobs: Jobs) -> None:
    """Retention now prunes a tree bottom-up (a parent goes after its children), so a
    missing parent is one an earlier release's retention pruned: its rows are removed here
    as that release did."""
    parent = jobs.finished(label="Gone soon")
    child = _child(jobs, parent)
    _remove_rows(jobs, parent)
    assert jobs.engine.get(parent) is None
    assert _call(js, child, "parentJob()") == {"id": parent, "label": None}


def test_retention_keeps_a_parent_while_a_child_of_it_lives(jobs: Jobs) -> None:
    parent = jobs.finished(label="Kept")
    child = _child(jobs, parent)
    clock_past(jobs.ms(parent, "ended_at"))
    jobs.engine.prune(jobs_days=0)
    assert jobs.engine.get(parent) is not None and jobs.engine.get(child) is not None


def _remove_rows(jobs: Jobs, job_id: str) -> None:
    with jobs.engine.database.write() as tx:
        for table in (job_logs, job_events, job_results):
            tx.connection.execute(sa.delete(table).where(table.c.job_id == job_id))
        tx.connection.execute(sa.delete(jobs_table).where(jobs_table.c.id == job_id))
