"""Which job transitions job listeners hear, and as which ``jobEvent``."""

from __future__ import annotations

import pytest

from sysjobs.app.job_events import job_event
from sysjobs.store.app_events import Transition


@pytest.mark.parametrize(("before", "after", "event"), [
    (None, "PENDING", "created"),
    ("PENDING", "RUNNING", "started"),
    ("RUNNING", "FINISHED", "finished"),
    ("STOPPING", "STOPPED", "stopped"),
    ("STOPPED", "PENDING", "resumed"),
    ("CANCELING", "CANCELED", "canceled"),
    ("PENDING", "CANCELED", "canceled"),
    ("RUNNING", "STOPPING", None),
    ("RUNNING", "CANCELING", None),
])
def test_transitions_map_to_the_spec_job_events(
    before: str | None, after: str, event: str | None
) -> None:
    assert job_event(Transition(1, "a" * 24, "EXECUTE_ACTION", before, after)) == event
