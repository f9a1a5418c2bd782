"""What ``sys.jobs`` and ``sys.data`` hand a script — jobs, log lines, result sets, records —
keeps nothing for the next run of a recycled context, on SQLite and PostgreSQL.

The attack: change the prototype that every ``Job`` (or ``ResultSet``, ``JobLog``,
``Record``) shares, so that the next script — run by someone else of the same app in the
same context — reads a forged ``results()`` or loses its items. Those prototypes are frozen;
a change to an intrinsic behind them sends the context away.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    with Host(db_url, pool_size=1) as h:
        yield h


def _attacks(job_id: str) -> dict[str, tuple[str, str]]:
    job = f"sys.jobs.findById('{job_id}')"
    return {
        "Job.results": (
            f"Object.getPrototypeOf({job}).results = function () {{ return 'forged' }}",
            f"{job}.results()",
        ),
        "Job prototype's prototype": (
            f"Object.getPrototypeOf(Object.getPrototypeOf({job})).leaked = 'forged'",
            "({}).leaked",
        ),
        "ResultSet of find": (
            "Object.getPrototypeOf(sys.jobs.find({})).hasNext = function () { return false }",
            "sys.jobs.find({}).hasNext() ? null : 'forged'",
        ),
        "ResultSet of logs": (
            f"Object.getPrototypeOf(sys.jobs.logs('{job_id}', {{}})).count = function () {{ return 'forged' }}",
            f"sys.jobs.logs('{job_id}', {{}}).count() === 'forged' ? 'forged' : null",
        ),
        "JobLog": (
            f"Object.getPrototypeOf(sys.jobs.logs('{job_id}', {{}}).next()).message = "
            "function () { return 'forged' }",
            f"sys.jobs.logs('{job_id}', {{}}).next().message()",
        ),
        "Record": (
            "Object.getPrototypeOf(sys.data.createRecord('companies')).entityName = "
            "function () { return 'forged' }",
            "sys.data.createRecord('companies').entityName()",
        ),
        "sys.jobs itself": ("sys.jobs.findById = function () { return 'forged' }",
                            f"{job}.id()"),
    }  # fmt: skip


def test_host_provided_objects_keep_nothing_for_the_next_run(host: Host) -> None:
    job_id = host.start_script_job("1", label="target").id
    host.engine.log_info(job_id, "line")
    attacks = _attacks(job_id)
    clean = {name: host.run(read).value for name, (_, read) in attacks.items()}
    assert clean["JobLog"] == "line" and clean["Record"] == "companies", clean
    for name, (change, read) in attacks.items():
        attacked = host.run(f"try {{ {change} }} catch (e) {{}}; 1")
        assert attacked.ok, (name, attacked.error)
        after = host.run(read)
        assert after.ok and after.value == clean[name], (name, after)
