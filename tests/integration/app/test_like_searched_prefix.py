"""``like()`` and the logs ``message`` filter search a text's first ``SEARCHED_CHARS``
characters, on SQLite and PostgreSQL alike (``sysjobs/store/search.py``).

The attack: one row whose text is huge, and a pattern that makes matching it slow — SQLite
retries the pattern at every position of the text inside one ``LIKE`` call, where its
progress handler (what stops a script's query at its deadline) cannot interrupt. Capping
the text a search reads bounds what one row can cost.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import BaseModel

from sysjobs.app.records import Record
from sysjobs.jobs import Engine, EngineSettings, JobType
from sysjobs.jobs.settings import Caps
from sysjobs.store.search import SEARCHED_CHARS
from tests.integration.app.conftest import AppEnv, make_env

NEEDLE = "needle"


class _Nothing(BaseModel):
    pass


NOOP = JobType(name="NOOP_LIKE", data_model=_Nothing, handler=lambda ctx, data: None)


@pytest.fixture
def env_only(app_url: str) -> Iterator[AppEnv]:
    env = make_env(app_url, workers=False)
    yield env
    env.close()


def _name(before: int) -> str:
    return "a" * before + NEEDLE


def test_like_finds_text_within_the_searched_prefix(env_only: AppEnv) -> None:
    env_only.app.records.save(Record("companies", {"name": _name(SEARCHED_CHARS - len(NEEDLE))}))
    assert env_only.app.records.count("companies", {"name": f"like({NEEDLE})"}) == 1


def test_like_does_not_read_past_the_searched_prefix(env_only: AppEnv) -> None:
    env_only.app.records.save(Record("companies", {"name": _name(SEARCHED_CHARS)}))
    assert env_only.app.records.count("companies", {"name": f"like({NEEDLE})"}) == 0
    assert env_only.app.records.count("companies", {"name": "like(aaa)"}) == 1


def test_the_logs_message_filter_searches_the_same_prefix(app_url: str) -> None:
    caps = Caps(max_message_chars=4 * SEARCHED_CHARS)  # lines longer than the prefix are kept
    with Engine.open(app_url, settings=EngineSettings(caps=caps)) as engine:
        engine.registry.register(NOOP)
        job = engine.enqueue("NOOP_LIKE", {})
        engine.log_info(job.id, _name(SEARCHED_CHARS - len(NEEDLE)) + " within")
        engine.log_info(job.id, _name(SEARCHED_CHARS) + " past")
        found = [line.message[-6:] for line in engine.logs(job.id, {"message": NEEDLE})]
        assert found == ["within"]
        assert engine.logs(job.id, {"message": NEEDLE.upper()}).count() == 1  # ignoring case


def test_a_huge_single_row_with_a_slow_pattern_is_bounded_and_the_host_goes_on(
    env_only: AppEnv,
) -> None:
    # Without the searched prefix, this one LIKE retried the pattern at each of the row's
    # four million positions in one call the deadline cannot interrupt: minutes. Bounded by
    # the prefix, it answers within an ordinary script limit; under a deadline it cannot
    # meet, the run ends with timeout or answers (how long 50 ms is depends on the machine:
    # either outcome is right, a hang is not), and the host goes on.
    env_only.app.records.save(Record("companies", {"name": "ab" * 2_000_000}))
    source = "sys.data.count('companies', {name: 'like(' + 'ab'.repeat(400) + 'z)'})"
    bounded = env_only.runner.sandbox.run(source, timeout_s=60)
    assert bounded.ok and bounded.value == 0, bounded.error
    short = env_only.runner.sandbox.run(source, timeout_s=0.05)
    assert (short.ok and short.value == 0) or (
        short.error is not None and short.error.code == "timeout"
    ), short
    after = env_only.runner.sandbox.run("sys.data.count('companies', {})", timeout_s=60)
    assert after.ok and after.value >= 1
