"""``sys.data.save`` of new records group-commits within a script run (bindings/data.py):
the records and their listener jobs are written together before the run's next call of
any other operation, every ``GROUP_COMMIT_RECORDS`` records, and when the run ends —
whatever way it ends."""

from __future__ import annotations

from typing import Any

import pytest

from sysjobs.app.records import Record
from sysjobs.bindings import data
from tests.integration.app.conftest import AppEnv

SAVE = ("var c = sys.data.createRecord('companies'); c.field('name').val('{name}'); "
        "c = sys.data.save(c);")


@pytest.fixture
def app_url(reused_db_url: str) -> str:
    """The module's database, emptied for this test (``tests/emptying.py``)."""
    return reused_db_url


@pytest.fixture
def quiet(reseeded: AppEnv) -> AppEnv:
    """The app, no worker running (listener jobs stay PENDING). One for the module, its
    database emptied and seeded again before each test (``reseeded``)."""
    return reseeded


def _named(env: AppEnv, prefix: str) -> int:
    return env.app.records.count("companies", {"name": f"like({prefix})"})


def _listener_jobs(env: AppEnv) -> int:
    return int(env.engine.find({"type": "EXECUTE_LISTENER"}).count())


def test_a_script_reads_the_records_it_just_saved(quiet: AppEnv) -> None:
    saves = "".join(SAVE.format(name=f"gc{i}") for i in range(5))
    value = quiet.js(saves + "[sys.data.count('companies', {name: 'like(gc)'}), c.id() !== null]")
    assert value == [5, True]


def test_records_saved_without_another_call_are_written_when_the_run_ends(
    quiet: AppEnv,
) -> None:
    quiet.js("for (var i = 0; i < 450; i++) {" + SAVE.format(name="end' + i + '") + "}")
    assert _named(quiet, "end") == 450
    assert _listener_jobs(quiet) == 450  # each record's listener job, committed with it


def test_the_returned_record_is_the_stored_one(quiet: AppEnv) -> None:
    wire = quiet.js(SAVE.format(name="same") + "[c.id(), c.label(), sys.data.findById("
                    "'companies', c.id()).label()]")  # fmt: skip
    assert wire[1:] == ["same", "same"] and len(wire[0]) == 24


def test_a_run_that_throws_after_saving_keeps_what_it_saved(quiet: AppEnv) -> None:
    result = quiet.runner.sandbox.run(SAVE.format(name="thrown") + "throw new Error('boom');")
    assert not result.ok and result.error is not None and result.error.message == "boom"
    assert _named(quiet, "thrown") == 1 and _listener_jobs(quiet) == 1


def test_a_run_that_times_out_after_saving_keeps_what_it_saved(quiet: AppEnv) -> None:
    # (a 1 s limit: the save before the loop is one call of milliseconds; 3 s spun 3 s of CPU)
    result = quiet.runner.sandbox.run(SAVE.format(name="slow") + "while (true) {}", timeout_s=1)
    assert result.outcome == "timeout"
    assert _named(quiet, "slow") == 1


def test_a_bad_save_is_refused_at_once_and_the_ones_before_it_are_written(
    quiet: AppEnv,
) -> None:
    hostile = [("name", "'\\ud800'"), ("employees", "NaN"), ("employees", "Infinity"),
               ("employees", "-Infinity"), ("type", "'z'.repeat(1000000)")]  # fmt: skip
    for field, value in hostile:
        code = quiet.js(SAVE.format(name="before") + "try { var b = sys.data.createRecord("
                        f"'companies'); b.field('name').val('ok'); b.field('{field}').val("
                        f"{value}); sys.data.save(b); 'saved' }} catch (e) {{ "
                        "sys.exceptions.getCode(e) }")  # fmt: skip
        assert code == "badRequest", (field, value)
    missing = quiet.js("try { sys.data.save(sys.data.createRecord('companies')); 'saved' } "
                       "catch (e) { sys.exceptions.getCode(e) }")  # fmt: skip
    assert missing == "validationErrors"
    assert _named(quiet, "before") == len(hostile)
    assert _named(quiet, "ok") == 0


def test_a_relationship_to_a_record_saved_just_before_is_found(quiet: AppEnv) -> None:
    contact = quiet.js(
        SAVE.format(name="parent") + "var p = sys.data.createRecord('contacts'); "
        "p.field('firstName').val('Kid'); p.field('company').val(c.id()); "
        "sys.data.save(p).field('company').val() === c.id()"
    )
    assert contact is True


def test_at_most_the_group_size_waits_in_memory(
    quiet: AppEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "GROUP_COMMIT_RECORDS", 3)
    stored: list[int] = []  # what the database holds at each log() line (log() defers)
    source = "".join(SAVE.format(name=f"grp{i}") + "log('x');" for i in range(7))
    result = quiet.runner.sandbox.run(
        source, log_sink=lambda _line: stored.append(_named(quiet, "grp"))
    )
    assert result.ok, result.error
    assert stored == [0, 0, 3, 3, 3, 6, 6]
    assert _named(quiet, "grp") == 7


def test_the_script_childs_operations_defer_as_the_real_ones_do(quiet: AppEnv) -> None:
    from sysjobs.bindings.data import data_namespace
    from sysjobs.script_child import DEFERRING_OPERATIONS

    real = {f"data.{op.name}" for op in data_namespace(quiet.app).operations if op.defers}
    assert real == DEFERRING_OPERATIONS


def test_a_record_and_its_listener_jobs_commit_together_or_not_at_all(quiet: AppEnv) -> None:
    records = quiet.app.records

    def fails_after_the_jobs(_event: str, _changed: list[Any], _parent: str | None) -> None:
        raise RuntimeError("the transaction fails after the listener jobs were inserted")

    prepared = records.prepare(Record("companies", {"name": "atomic"}))
    records.written_hooks.append(fails_after_the_jobs)
    with pytest.raises(RuntimeError):
        records.insert_prepared([prepared])
    records.written_hooks.remove(fails_after_the_jobs)
    assert _named(quiet, "atomic") == 0 and _listener_jobs(quiet) == 0
    records.insert_prepared([records.prepare(Record("companies", {"name": "atomic"}))])
    assert _named(quiet, "atomic") == 1 and _listener_jobs(quiet) == 1
