"""What every sample run waits for before it looks: no job active and none about to start.

``settle`` waits on the active jobs' own ends and pumps the app's job transitions itself,
with the host's background pump held (``JobEventPump.held``): the listener job an action's
end starts is part of what it waits for, and a round of the background pump half done (its
cursor moved, its listener jobs not started yet) cannot make it return early.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from sysjobs.app.job_events import JobEventPump
from sysjobs.cli.demo_host import open_demo_host

_ACTIVE = "PENDING,RUNNING,STOPPING,CANCELING"
_START_AN_ACTION = (
    "sys.data.executeAction('companies', {}, 'logSomething', {param1: 's', param2: 't'})"
)


def test_settle_returns_after_the_listener_job_an_ended_action_starts_has_ended(
    db_url: str,
) -> None:
    with open_demo_host(db_url, in_process=True) as host:
        started, _ = host.run_script(_START_AN_ACTION, in_job=False, timeout_s=30.0)
        assert started.ok, started
        action_id = str(started.value)

        host.settle()

        engine = host.engine
        assert engine.find({"status": _ACTIVE}).count() == 0
        assert str(engine.require(action_id).status) == "FINISHED"
        listeners = list(engine.find({"type": "EXECUTE_LISTENER"}))
        reactions = [
            j for j in listeners
            if any(action_id in e.message for e in engine.logs(j.id, {}))
        ]  # fmt: skip
        assert [str(j.status) for j in reactions] == ["FINISHED"]
        with host._events.held() as pump:
            assert pump() == 0  # every transition was handed to the listeners


def test_settle_on_a_quiet_host_returns_at_once_without_a_second_look(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_demo_host(db_url, in_process=True) as host:
        host.settle()
        looks: list[object] = []
        find = host.engine.find

        def counted(query: Any) -> Any:
            looks.append(query)
            return find(query)

        monkeypatch.setattr(host.engine, "find", counted)
        host.settle()
        monkeypatch.undo()
        assert len(looks) == 1


def test_a_held_pump_lets_a_round_in_progress_end_first_and_runs_none_meanwhile() -> None:
    in_round, go_on = threading.Event(), threading.Event()
    rounds: list[str] = []

    def pump_once() -> int:
        if not rounds:  # the thread's first round: held until the test lets it go on
            rounds.append("thread started")
            in_round.set()
            go_on.wait(30)
            rounds.append("thread ended")
            return 0
        rounds.append("another round")
        return 0

    pump = JobEventPump(pump_once, interval_s=3600).start()
    try:
        assert in_round.wait(30)
        seen: list[list[str]] = []

        def hold() -> None:
            with pump.held() as own:
                seen.append(list(rounds))
                own()

        holder = threading.Thread(target=hold)
        holder.start()
        go_on.set()
        holder.join(30)
        assert seen == [["thread started", "thread ended"]]
        assert rounds == ["thread started", "thread ended", "another round"]
    finally:
        pump.stop()
