"""``executeInJob`` runs its callback over a chunk of items in one script, whose completion
value reports which items threw (``{failed: [[index, text]…], count}``). That value is built
by JavaScript the callback shares a realm with: a callback that replaces
``Array.prototype.push`` (or makes the report's entries anything else) changes what the
report says. The host reads it as untrusted data: a report of the wrong shape fails that
chunk's items with a clear line, the job ends as usual — never a Python exception's text in
the job's log. Both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.host import Host

#: Each callback forges the report its chunk hands back, then throws for the item.
FORGERS = {
    "an index that is no number": "Array.prototype.push = function () { this[this.length] = ['x', {}]; };",
    "an entry that is no pair": "Array.prototype.push = function () { this[this.length] = 7; };",
    "a text that is an object": "Array.prototype.push = function () { this[this.length] = [0, {a: 1}]; };",
    "a huge index": "Array.prototype.push = function () { this[this.length] = [1e300, 't']; };",
}  # fmt: skip


@pytest.fixture
def host(db_url: str) -> Iterator[Host]:
    with Host(db_url, pool_size=1) as opened:  # (in-process workers: trusted test scripts)
        yield opened


@pytest.mark.parametrize("forger", list(FORGERS))
def test_a_forged_chunk_report_fails_its_items_with_a_clear_line(host: Host, forger: str) -> None:
    source = f"""
        var id = sys.jobs.executeInJob([1, 2, 3], 'default', function (item) {{
            {FORGERS[forger]}
            throw new Error('item ' + item);
        }}, 3);
        id"""
    with host.workers(1, in_process=True):
        started = host.run_in_job(source, label="forger", wait_s=120)
        assert started.status == "FINISHED" and started.results is not None, started
        job = host.engine.wait(started.results["value"], ["FINISHED", "STOPPED", "CANCELED"], 120)
    lines = [line.message for line in host.engine.logs(job.id, {})]
    assert job.status == "FINISHED", (job, lines)
    assert job.has_errors
    python_text = ("Traceback", "Job failed", "ValueError", "cannot unpack", "invalid literal",
                   "OverflowError", "KeyError")  # fmt: skip
    assert not any(text in m for m in lines for text in python_text), lines
    assert any("changed by the callback" in m for m in lines), lines
    assert (job.results or {}).get("itemsFailed") == 3, (job.results, lines)
