"""Per-job caps are configuration: ``EngineSettings.caps`` (or a Host's ``settings``) sets
them, each engine has its own, and nothing is left in module state."""

from __future__ import annotations

from sysjobs.errors import BadRequest
from sysjobs.host import Host
from sysjobs.jobs import Engine, EngineSettings, caps
from sysjobs.jobs.leases import Lease
from sysjobs.runtime.launcher import Launcher
from tests.integration.engine.jobtypes import register

SMALL = EngineSettings(caps=caps.Caps(max_log_lines=3, max_message_chars=5, max_result_bytes=40))


def _messages(engine: Engine, job_id: str) -> list[tuple[str, str]]:
    return [(str(entry.level), entry.message) for entry in engine.logs(job_id, {})]


def test_the_default_caps_are_the_documented_ones() -> None:
    assert EngineSettings().caps == caps.Caps(
        max_log_lines=10_000, max_message_chars=64 * 1024, max_result_bytes=1024 * 1024
    )


def test_caps_from_the_settings_cap_a_jobs_log_lines_and_messages(db_url: str) -> None:
    with Engine.open(db_url, settings=SMALL) as engine:
        register(engine)
        job = engine.enqueue("NOOP", {})
        for i in range(6):
            engine.log_info(job.id, f"line {i}")
        assert _messages(engine, job.id) == [
            ("INFO", "line … [1 more characters cut]"),
            ("INFO", "line … [1 more characters cut]"),
            ("INFO", "line … [1 more characters cut]"),
            ("ERROR", caps.log_notice(3)),
        ]


def test_caps_from_the_settings_cap_a_jobs_results(db_url: str) -> None:
    with Engine.open(db_url, settings=SMALL) as engine:
        register(engine)
        engine.enqueue("NOOP", {})
        [claimed] = engine.leases.claim("w", limit=1, types=["NOOP"], queues=["mix"])
        lease: Lease = claimed.lease
        assert engine.leases.set_results(lease, {"value": "x" * 100})
        results = engine.require(lease.job_id).results
        size = len('{"value": ""}') + 100
        assert results == {"truncated": True, "bytes": size, "limit": 40}


def test_each_engine_keeps_its_own_caps(db_url: str) -> None:
    with Engine.open(db_url, settings=SMALL) as small, Engine.open(db_url) as default:
        register(small)
        register(default)
        job = small.enqueue("NOOP", {})
        default.log_info(job.id, "a long line kept whole")
        assert _messages(default, job.id) == [("INFO", "a long line kept whole")]
        assert small.settings.caps.max_log_lines == 3
        assert default.settings.caps.max_log_lines == 10_000


def test_a_host_passes_its_settings_to_the_engine_it_opens(db_url: str, launcher: Launcher) -> None:
    with Host(db_url, pool_size=1, settings=SMALL, launcher=launcher) as host:
        assert host.engine.settings.caps == SMALL.caps
        with host.workers(1):
            job = host.run_in_job("for (var i = 0; i < 5; i++) log('line ' + i); 'done'", wait_s=60)
        messages = _messages(host.engine, job.id)
        assert messages[:3] == [("INFO", "line … [1 more characters cut]")] * 3
        assert messages[3] == ("ERROR", caps.log_notice(3))


def test_settings_go_to_the_engine_not_to_a_host_given_an_engine(db_url: str) -> None:
    with Engine.open(db_url) as engine:
        try:
            Host(engine=engine, settings=SMALL)
        except BadRequest as error:
            assert "pass settings to the engine" in error.message
        else:
            raise AssertionError("a Host given an engine and settings must refuse")
