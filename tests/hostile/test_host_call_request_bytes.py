"""A host call's arguments cross into Python as one JSON text, sent in chunks through the
transport buffer. Their size is the script's choice — one JavaScript string repeated costs
it nothing — and the host held every chunk, then copies, decodes and parses of the whole
(a 100 MB ``log()`` line: ~700 MB of the host process before the refusal), whatever the
call then does with it. In a worker process under its data limit, one such call ended the
process and every job it ran. Past ``MAX_REQUEST_UNITS`` (UTF-16 units) the host keeps
nothing of a request and answers ``badRequest``; the script goes on, and so does its
context."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sysjobs.bindings import core_namespaces
from sysjobs.runtime import Limits, Sandbox
from sysjobs.runtime.bridge import MAX_REQUEST_UNITS


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sb = Sandbox(core_namespaces(), Limits(timeout_s=60.0, heap_bytes=512 << 20), pool_size=0)
    yield sb
    sb.close()


def test_a_request_past_the_bound_is_a_bad_request_and_the_context_goes_on(
    sandbox: Sandbox,
) -> None:
    units = MAX_REQUEST_UNITS + 1
    lines: list[str] = []
    with sandbox.session(log_sink=lines.append) as session:
        result = session.run(f"""
            var big = 'x'.repeat({units});
            var code;
            try {{ log(big); code = 'none'; }}
            catch (e) {{ code = sys.exceptions.getCode(e) + ': ' + String(e.message); }}
            log('after');
            code""")
        again = session.run("log('next run'); 1 + 1")
    assert result.ok, result.error
    assert str(result.value).startswith("badRequest: "), result.value
    assert "arguments" in str(result.value) and str(MAX_REQUEST_UNITS) in str(result.value)
    assert lines == ["after", "next run"]
    assert again.value == 2


def test_a_request_within_the_bound_goes_through_whole(sandbox: Sandbox) -> None:
    lines: list[str] = []
    size = 4 << 20  # many chunks of the transport buffer
    with sandbox.session(log_sink=lines.append) as session:
        result = session.run(f"log('y'.repeat({size})); 'ok'")
    assert result.value == "ok", result.error
    assert lines, "the line arrived (the sink keeps it up to the line cap)"
