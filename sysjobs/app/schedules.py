"""An app's schedules as its engine runs them: each manifest schedule and the job it starts.

A ``listener`` schedule starts an EXECUTE_LISTENER job whose ``event`` is
``{type: 'SCHEDULE', scheduleName, tick, tickMs, missedSince}``; a ``script`` (file) or
``source`` (inline) schedule starts a RUN_SCRIPT job running that JavaScript, as
``sysjobs run --in-job`` would. Either job carries the tick in its private ``_schedule``
data and in its label (``sysjobs.jobs.schedules.Tick``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sysjobs.app.definition import AppDefinition
from sysjobs.app.schedule_defs import ScheduleDef
from sysjobs.app.scripts import SCRIPT_TIMEOUT_S
from sysjobs.jobs.registry import SCRIPT_JOB_TYPE
from sysjobs.jobs.schedules import Schedule, Tick

#: The job type a listener schedule starts.
LISTENER_JOB_TYPE = "EXECUTE_LISTENER"


def app_schedules(definition: AppDefinition) -> list[Schedule]:
    """The manifest's schedules, each with the job its ticks start."""
    return [_schedule(definition, name, sdef)
            for name, sdef in definition.manifest.schedules.items()]  # fmt: skip


def _schedule(definition: AppDefinition, name: str, sdef: ScheduleDef) -> Schedule:
    job_type, make = _job_of(definition, name, sdef)
    return Schedule(name=name, cron=sdef.parsed(), target=sdef.target, job_type=job_type,
                    make_data=make, enabled=sdef.enabled)  # fmt: skip


def _job_of(definition: AppDefinition, name: str, sdef: ScheduleDef
            ) -> tuple[str, Callable[[Tick], Mapping[str, Any]]]:  # fmt: skip
    listener = sdef.listener
    if listener is not None:
        return LISTENER_JOB_TYPE, lambda tick: {
            "listenerName": listener, "_event": {"type": "SCHEDULE", **schedule_event(tick)},
        }
    source = sdef.source if sdef.source is not None else definition.script(sdef.script or "")
    return SCRIPT_JOB_TYPE, lambda tick: {"_source": source, "_timeout_s": SCRIPT_TIMEOUT_S}


def schedule_event(tick: Tick) -> dict[str, Any]:
    """A scheduled listener's ``event`` (besides its ``type``)."""
    data = tick.as_data()
    return {"scheduleName": data["name"], "tick": data["tick"], "tickMs": data["tickMs"],
            "missedSince": data["missedSince"]}  # fmt: skip
