"""Job listeners fire on the engine's real job transitions, each event once."""

from __future__ import annotations

from pathlib import Path

from sysjobs.app.app import App
from sysjobs.app.definition import load_app
from sysjobs.app.jobtypes import APP_JOB_TYPES, register_app_job_types
from sysjobs.app.listeners import MAX_INLINE_DEPTH, ListenerDispatcher
from sysjobs.app.records import Record
from sysjobs.jobs import Engine
from tests.acceptance.worker.waits import wait_for
from tests.integration.app.conftest import make_env


def test_app_opens_on_the_engine_and_registers_the_11_public_types(engine: Engine) -> None:
    app = App.open(engine)
    register_app_job_types(engine, app)
    assert set(APP_JOB_TYPES) <= set(engine.registry.names()) and len(APP_JOB_TYPES) == 11
    assert app.records.count("companies", {"type": "a"}) == 2
    job = engine.require(app.execute_action("companies", {"type": "a"}, "logSomething",
                                            {"param1": "a", "param2": "b"}))
    assert job.type == "EXECUTE_ACTION" and job.status == "PENDING"
    assert job.data["entityName"] == "companies" and job.data["actionName"] == "logSomething"


def test_job_transitions_fire_job_listeners_once(engine: Engine) -> None:
    app = App.open(engine)
    register_app_job_types(engine, app)
    fired: list[tuple[str, str, str]] = []
    app.listeners.on_job = lambda t, e, i: fired.append((t, e, i))  # type: ignore[method-assign]
    assert app.pump_job_events() == 0  # a fresh cursor starts at the newest transition
    job_id = app.execute_action("companies", {}, "logSomething", {})
    engine.cancel(job_id)
    other = App.open(engine)  # a second process sharing the database
    other.listeners.on_job = lambda t, e, i: fired.append(("other", e, i))  # type: ignore[method-assign]
    assert app.pump_job_events() >= 2
    assert other.pump_job_events() == 0
    events = [e for t, e, i in fired if i == job_id]
    assert events[0] == "created" and events[-1] == "canceled"
    assert all(t == "EXECUTE_ACTION" for t, _, _ in fired)


def test_demo_job_listener_is_started_for_a_finished_action(engine: Engine) -> None:
    app = App.open(engine)
    register_app_job_types(engine, app)
    dispatcher: ListenerDispatcher = app.listeners
    dispatcher.on_job("EXECUTE_ACTION", "finished", "f" * 24)
    [job] = list(engine.find({"type": "EXECUTE_LISTENER"}))
    assert job.data["listenerName"] == "onActionJobFinished"
    assert job.data["_event"]["jobEvent"] == "finished"


def test_stopped_app_holds_back_app_jobs(engine: Engine) -> None:
    app = App.open(engine)
    assert app.held_job_types() == frozenset()
    app.status.set_app(app.status.app().__class__("STOPPED"))
    held = app.held_job_types()
    assert "EXECUTE_ACTION" in held and "START_APP" not in held and "STOP_APP" not in held


def test_pump_thread_runs_the_demo_job_listener_after_an_action_finishes(app_url: str) -> None:
    env = make_env(app_url)
    pump = env.app.start_job_event_pump(interval_s=0.05)
    try:
        job_id = env.app.execute_action("companies", {"type": "a"}, "logSomething", {})
        env.wait(job_id)
        wait_for(env.engine, lambda: env.engine.find({"type": "EXECUTE_LISTENER"}).count() or None,
                 "the job listener's job", keys=["work"])  # fmt: skip
        [listener_job] = env.jobs.of_type("EXECUTE_LISTENER")
        assert listener_job.public_data() == {"listenerName": "onActionJobFinished"}
        assert ("INFO", f"job {job_id} of type EXECUTE_ACTION finished") in listener_job.logs
    finally:
        pump.stop()
        env.close()


INLINE_APP = """
name: inline
entities:
  notes:
    labelField: title
    fields:
      title: {type: text}
      seen: {type: boolean}
listeners:
  markSeen:
    type: data
    entity: notes
    events: [created]
    script: mark.js
"""


def test_inline_data_listener_runs_right_away_with_record_and_event(
    app_url: str, tmp_path: Path
) -> None:
    (tmp_path / "app.yaml").write_text(INLINE_APP)
    (tmp_path / "mark.js").write_text(
        "if (event.dataEvent === 'created' && oldRecord === null) {"
        " record.field('seen').val(true); sys.data.save(record); }"
    )
    env = make_env(app_url, load_app(tmp_path), workers=False)
    try:
        env.app.listeners.inline_runner = env.runner
        saved = env.app.records.save(Record("notes", {"title": "hello"}))
        again = env.app.records.find_by_id("notes", saved.id)
        assert again is not None and again.fields["seen"] is True
        assert env.engine.find({}).count() == 0  # no job: it ran inline
    finally:
        env.close()


def test_inline_listeners_that_feed_themselves_stop_at_a_depth_limit(
    app_url: str, tmp_path: Path
) -> None:
    (tmp_path / "app.yaml").write_text(INLINE_APP.replace("[created]", "[created, changed]"))
    (tmp_path / "mark.js").write_text("record.field('title').val(record.field('title').val() + '!');"
                                      "sys.data.save(record);")
    env = make_env(app_url, load_app(tmp_path), workers=False)
    try:
        env.app.listeners.inline_runner = env.runner
        saved = env.app.records.save(Record("notes", {"title": "x"}))
        again = env.app.records.find_by_id("notes", saved.id)
        assert again is not None and again.label == "x" + "!" * MAX_INLINE_DEPTH
    finally:
        env.close()
