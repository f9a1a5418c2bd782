"""``executeInJob``'s items are stored in the job's row and handed to its parts: their size
is what one script makes the host hold, the database store and every part copy. At most
``MAX_ITEMS`` items, and at most ``MAX_ITEMS_BYTES`` bytes of JSON in all — a few dozen
megabyte-strings (one JavaScript string repeated costs the script nothing) made a host
process hold gigabytes and the database grow by as much. One more byte is ``badRequest``
naming ``items``; a call within the bound (10,000 items of a kilobyte) is kept. Both
databases (the refusal, decided before any database access, on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host
from sysjobs.jobs.in_job import MAX_ITEMS_BYTES


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    with Host(db_url, pool_size=1) as opened:
        yield opened


def _call(host: Host, items: str) -> object:
    result = host.run(f"""
        try {{ sys.jobs.executeInJob({items}, 'default', function (x) {{}}) }}
        catch (e) {{ [sys.exceptions.getCode(e), String(e.message)] }}""", timeout_s=60)
    assert result.ok, result.error
    return result.value


# Refused by the binding's argument check, before any database access: the PostgreSQL
# variant would run the same code path (the count below reads an empty database).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_items_past_the_byte_bound_are_a_bad_request_naming_items(host: Host) -> None:
    megabytes = MAX_ITEMS_BYTES // (1 << 20) + 1
    value = _call(host, f"Array({megabytes}).fill('x'.repeat(1 << 20))")
    assert isinstance(value, list) and value[0] == "badRequest", value
    assert "'items'" in value[1] and "bytes of JSON" in value[1], value
    assert host.engine.find({}).count() == 0


def test_items_within_the_bound_are_kept(host: Host) -> None:
    job_id = _call(host, "Array(10000).fill('k'.repeat(1000))")
    assert isinstance(job_id, str), job_id
    assert len(host.engine.require(job_id).data["_items"]) == 10_000
